"""Make docs/review.png: `redactor review` on the samples with the real models, in Debian's chromium.

    .venv/bin/python scripts/review-screenshot.py [OUT.png]

Starts the real command on a free port, opens the URL it prints (token and all), waits for the
first image's analysis, selects a kept text line, and saves a screenshot. Chinese in the side
list needs a CJK font in the browser (Debian: fonts-wqy-zenhei); without one it shows boxes.
"""

import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "review.png"
SAMPLES = ["lennon_wall.jpg", "street_car.jpg", "name_card.png"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(sys.executable).with_name("redactor")
        server = subprocess.Popen([str(exe), "review", *(str(ROOT / "samples" / s) for s in SAMPLES),
                                   "-o", tmp, "--port", "0"], stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(url)
                page.wait_for_selector("body[data-loaded]", timeout=120_000)
                kept = page.locator("#regions li.kept").filter(has_text="text")
                if kept.count():
                    kept.first.click()
                page.wait_for_timeout(300)
                OUT.parent.mkdir(parents=True, exist_ok=True)
                shot = Image.open(io.BytesIO(page.screenshot()))
                shot.quantize(256, method=Image.Quantize.MEDIANCUT).save(OUT, optimize=True)  # ≈1/3 the size
                browser.close()
        finally:
            server.terminate()
            server.wait(10)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
