"""The worker's own Python work per request, without sockets.

Runs the worker's serve loop (internal/pyruntime/_gowsgi/worker.py) on a
channel that hands it the same Request frame, a GET / as Go encodes it,
over and over and drops the frames it answers with. Prints the loop's cost
per request and, for comparison, the app called alone.

usage: /usr/bin/python3 bench/workerloop.py [REQUESTS] [MODULE:APP]
"""
import importlib
import io
import marshal
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(ROOT, "internal", "pyruntime"),
                os.path.join(ROOT, "bench", "apps")]

from _gowsgi import worker  # noqa: E402
from _gowsgi.channel import REQUEST  # noqa: E402

# The keys Go's environ.Build sets for a keep-alive GET / from wrk.
ENVIRON = {
    "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/",
    "QUERY_STRING": "", "REQUEST_URI": "/", "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "54321",
    "HTTP_HOST": "127.0.0.1:8000", "wsgi.url_scheme": "http",
    "wsgi.multiprocess": True,
}


class Replay:
    """A channel that serves one frame n times, then ends the loop."""

    max_meta = 1 << 20  # frame.MaxMeta, as Go passes it to a worker

    def __init__(self, n):
        self.left = n
        self.frame = (REQUEST, memoryview(marshal.dumps((ENVIRON, b""))))

    def read_frame(self):
        if not self.left:
            raise EOFError
        self.left -= 1
        return self.frame

    def send(self, parts):
        pass

    def send_data(self, data):
        pass

    def check_abort(self):
        pass


def per_request(f, n):
    start = time.perf_counter()
    f()
    return (time.perf_counter() - start) / n * 1e6


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    module, name = (sys.argv[2] if len(sys.argv) > 2
                    else "hello:application").split(":")
    app = getattr(importlib.import_module(module), name)
    base = worker.base_environ(1)
    worker.serve(Replay(n // 10), app, base)  # warm up
    loop = per_request(lambda: worker.serve(Replay(n), app, base), n)

    def alone():
        for _ in range(n):
            env = dict(ENVIRON, **base)
            env["wsgi.input"] = io.BytesIO(b"")
            result = app(env, lambda s, h, e=None: None)
            for _chunk in result:
                pass
            if hasattr(result, "close"):
                result.close()
    print("serve loop %.2f us/request, of which the app alone %.2f us"
          % (loop, per_request(alone, n)))


if __name__ == "__main__":
    main()
