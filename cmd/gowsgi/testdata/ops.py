"""WSGI applications for the tests of logs, metrics and check."""

import os
import time


def rid(environ, start_response):
    """Answers with the request ID it sees; /status/N answers status N."""
    path = environ["PATH_INFO"]
    status = "200 OK"
    if path.startswith("/status/"):
        status = path[len("/status/"):] + " Whatever"
    start_response(status, [("Content-Type", "text/plain")])
    return [environ.get("HTTP_X_REQUEST_ID", "").encode("latin-1")]


def hold(environ, start_response):
    """/hold creates $SYNC_DIR/started, then answers once $SYNC_DIR/release
    exists (or fails after $HOLD_TIMEOUT seconds, 20 by default); any other
    path answers at once."""
    if environ["PATH_INFO"] == "/hold":
        sync = os.environ["SYNC_DIR"]
        open(os.path.join(sync, "started"), "w").close()
        deadline = time.monotonic() + float(os.environ.get("HOLD_TIMEOUT", "20"))
        while not os.path.exists(os.path.join(sync, "release")):
            if time.monotonic() > deadline:
                raise RuntimeError("never released")
            time.sleep(0.01)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok\n"]


class NotCallable:
    pass


not_callable = NotCallable()
