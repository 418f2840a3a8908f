"""An app whose import hangs while the file $HANG_MARKER exists: a reload
of a new version that never finishes importing."""

import os
import time

if os.path.exists(os.environ["HANG_MARKER"]):
    time.sleep(3600)


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d %d" % (os.getppid(), os.getpid())]
