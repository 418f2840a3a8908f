"""The WSGI app of the admin tests."""

import os
import time


def application(environ, start_response):
    """/hold waits for $SYNC_DIR/release; /missing is 404; else 200."""
    path = environ["PATH_INFO"]
    if path == "/hold":
        sync = os.environ["SYNC_DIR"]
        open(os.path.join(sync, "started"), "w").close()
        deadline = time.monotonic() + 20
        while not os.path.exists(os.path.join(sync, "release")):
            if time.monotonic() > deadline:
                raise RuntimeError("never released")
            time.sleep(0.01)
    if path == "/missing":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"no\n"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]
