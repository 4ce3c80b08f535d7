"""Make docs/before-after.jpg: samples/lennon_wall.jpg beside its redaction by `make demo`.

    make demo && .venv/bin/python scripts/before-after.py
"""

from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
GAP = 10  # px of white between the two halves


def main() -> None:
    before = Image.open(ROOT / "samples" / "lennon_wall.jpg").convert("RGB")
    after = Image.open(ROOT / "out" / "lennon_wall.jpg").convert("RGB")
    w, h = before.width // 2, before.height // 2
    sheet = Image.new("RGB", (2 * w + GAP, h), "white")
    sheet.paste(before.resize((w, h), Image.LANCZOS), (0, 0))
    sheet.paste(after.resize((w, h), Image.LANCZOS), (w + GAP, 0))
    sheet.save(ROOT / "docs" / "before-after.jpg", quality=85)


if __name__ == "__main__":
    main()
