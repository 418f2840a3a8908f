"""An app whose worker dies 1.05 s after it imported it: past the old
one-second crash-loop limit, so only a backoff that counts any early
death slows its restarts."""

import os
import threading


def _die():
    os._exit(1)


# A daemon timer: the worker's threads serve meanwhile.
_timer = threading.Timer(1.05, _die)
_timer.daemon = True
_timer.start()


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"short-lived"]
