"""The review page and HTTP API (``redactor review``, ``redactor serve``): routes in app.py,
the request guard in security.py, the work in service.py (one Redactor behind a queue) and
review.py (the review session); templates/ and static/ ship in the package (no build step,
nothing from a CDN). Needs ``pip install 'redactor[web]'``."""
