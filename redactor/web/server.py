"""Start the app with uvicorn: bind, print the one URL with the token, warn off localhost."""

from __future__ import annotations

import os
import secrets
import socket
import sys
from typing import Any

from ..errors import RedactorError

LOCAL = {"127.0.0.1", "localhost", "::1"}


def check_installed() -> None:
    """Stop with the install command when the [web] extra is missing."""
    try:
        import jinja2  # noqa: F401
        import multipart  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise RedactorError(f"the web app needs more packages ({e.name} is missing): "
                            "pip install 'redactor[web]'") from e


def token() -> str:
    """REDACTOR_TOKEN when set (e.g. for a newsroom script that starts the server), else random."""
    return os.environ.get("REDACTOR_TOKEN") or secrets.token_urlsafe(24)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise RedactorError(f"cannot listen on {host}:{port} ({e.strerror or e}); choose another --port") from e
    sock.listen(64)
    return sock


def url(host: str, port: int, tok: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/?token={tok}"


def run(app: Any, sock: socket.socket, host: str, tok: str) -> None:
    """Serve until interrupted. The access log is off: it would print the token and image ids."""
    import uvicorn

    port = sock.getsockname()[1]
    if host not in LOCAL:
        print(f"redactor: warning: listening on {host}:{port}, not only this machine: anyone who can reach it "
              "can try to use it. The photos are personal data; prefer the default 127.0.0.1.", file=sys.stderr)
    print(url(host, port, tok), flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
