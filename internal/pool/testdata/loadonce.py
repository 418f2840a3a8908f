"""An app that imports once, then fails to (a deploy broke it).

The first import creates the file $GOWSGI_FAKE_ONCE; later ones raise,
once the file $GOWSGI_FAKE_FAIL_AFTER exists if that is set (the test says
when), as the fake worker's "loadonce" part does.
"""
import os
import time

try:
    open(os.environ["GOWSGI_FAKE_ONCE"], "x").close()
except FileExistsError:
    gate = os.environ.get("GOWSGI_FAKE_FAIL_AFTER")
    deadline = time.monotonic() + 60
    while gate and not os.path.exists(gate) and time.monotonic() < deadline:
        time.sleep(0.005)
    raise ImportError("the deploy broke this import")


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
