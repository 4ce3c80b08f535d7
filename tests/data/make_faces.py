"""Make the portrait fixtures of tests/test_identity.py, and the cat of tests/test_faces.py, from
scikit-image's bundled photos (files inside its wheel: nothing is downloaded).

    .venv/bin/pip install scikit-image==0.26.0
    .venv/bin/python tests/data/make_faces.py

- ``astronaut.jpg``: Eileen Collins, NASA portrait (public domain), ``skimage.data.astronaut()``.
- ``cameraman.jpg``: a man behind a video camera on a tripod (grey), ``skimage.data.camera()``;
  CC0 by the photographer, Lav Varshney.

- ``chelsea.jpg``: Chelsea the cat, ``skimage.data.chelsea()`` (CC0, Stefan van der Walt), whole:
  libfacedetection takes her head for a face; the face check must not.

Two different real people, cropped around the face to keep the files small (a few kB each).
Deterministic for the same scikit-image, numpy and Pillow versions.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
#: (x0, y0, x1, y1) crops in the 512x512 originals: the face with some shoulders around it.
CROPS = {"astronaut": (110, 10, 340, 250), "cameraman": (130, 40, 340, 260)}


def main() -> None:
    from skimage import data

    photos = {"astronaut": data.astronaut(), "cameraman": np.stack([data.camera()] * 3, axis=-1)}
    for name, rgb in photos.items():
        x0, y0, x1, y1 = CROPS[name]
        Image.fromarray(rgb[y0:y1, x0:x1]).save(HERE / f"{name}.jpg", quality=90)
        print(f"wrote {HERE / name}.jpg")
    # Read from the wheel's file: skimage.data.chelsea() needs skimage.io's plugins (tifffile...).
    with resources.as_file(resources.files("skimage.data") / "chelsea.png") as path:
        Image.open(path).convert("RGB").save(HERE / "chelsea.jpg", quality=90)
    print(f"wrote {HERE / 'chelsea.jpg'}")


if __name__ == "__main__":
    main()
