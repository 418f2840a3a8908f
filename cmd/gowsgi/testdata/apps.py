"""WSGI applications for the gowsgi command's tests."""

import os
import time


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello world!\n"]


def where(environ, start_response):
    """Echoes SCRIPT_NAME, PATH_INFO and the GREETING environment variable."""
    body = "%s|%s|%s" % (
        environ["SCRIPT_NAME"],
        environ["PATH_INFO"],
        os.environ.get("GREETING", ""),
    )
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode("latin-1")]


def slow(environ, start_response):
    """Creates $SYNC_DIR/started, then answers once $SYNC_DIR/release exists."""
    sync = os.environ["SYNC_DIR"]
    open(os.path.join(sync, "started"), "w").close()
    deadline = time.monotonic() + 20
    while not os.path.exists(os.path.join(sync, "release")):
        if time.monotonic() > deadline:
            raise RuntimeError("never released")
        time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"finished\n"]


def environ(environ, start_response):
    """Echoes the environ's CGI variables and wsgi.url_scheme, KEY=value a line."""
    lines = [
        "%s=%s" % (k, v)
        for k, v in sorted(environ.items())
        if isinstance(v, str) and (k.isupper() or k == "wsgi.url_scheme")
    ]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("\n".join(lines) + "\n").encode("latin-1")]
