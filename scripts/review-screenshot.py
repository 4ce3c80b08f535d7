"""Make docs/review.png, docs/review-keys.png and docs/review-street.png: `redactor review` on the samples with the real
models, in Debian's chromium.

    .venv/bin/python scripts/review-screenshot.py [OUT.png]

Starts the real command on a free port (its review state in a temporary folder), opens the URL it
prints (token and all), waits for the first image's analysis, selects a kept text line, and saves
a screenshot; then the `?` overlay of keys (OUT-keys.png) and the truck photo (OUT-street.png). Chinese in the side list
needs a CJK font in the browser (Debian: fonts-wqy-zenhei); without one it shows boxes.
"""

import io
import os
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
                                   "-o", f"{tmp}/out", "--port", "0"], stdout=subprocess.PIPE, text=True,
                                  env={**os.environ, "XDG_STATE_HOME": f"{tmp}/state"})
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=shutil.which("chromium"),
                                            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(url)
                page.wait_for_selector("#overlay polygon.region", timeout=300_000)
                kept = page.locator("#regions li.kept").filter(has_text="text, not personal")
                if kept.count():
                    kept.first.locator(".what").click()
                page.wait_for_timeout(300)
                save(page, OUT)
                page.keyboard.press("?")
                page.wait_for_timeout(200)
                save(page, OUT.with_name(OUT.stem + "-keys.png"))
                page.keyboard.press("Escape")
                # The truck: its unconfirmed plate candidates are listed, not drawn.
                page.locator("#queue-list li", has_text="street_car").click()
                page.wait_for_selector("#queue-list li.current[data-status=ready]", timeout=300_000)
                page.wait_for_selector("#overlay polygon.region", timeout=60_000)
                page.wait_for_timeout(300)
                save(page, OUT.with_name(OUT.stem + "-street.png"))
                browser.close()
        finally:
            server.terminate()
            server.wait(10)


def save(page, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    shot = Image.open(io.BytesIO(page.screenshot()))
    shot.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)  # ≈1/3 the size
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
