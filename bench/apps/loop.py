"""The app-alone limit: call each WSGI app in a tight loop on one core.

Prints one line per app: "NAME RPS". start_response is a no-op, the body is
drained, close() is called: what any server must do at least once per request.

usage: loop.py SECONDS NAME=MODULE:APP [...]
"""
import importlib
import io
import sys
import time
from wsgiref.util import FileWrapper, setup_testing_defaults

ECHO = b"e" * 1024


def environ_for(name):
    env = {}
    setup_testing_defaults(env)
    env["wsgi.file_wrapper"] = FileWrapper
    if name == "echo":
        env["REQUEST_METHOD"] = "POST"
        env["CONTENT_LENGTH"] = str(len(ECHO))
    return env


def start_response(status, headers, exc_info=None):
    return None


def bench(name, app, seconds):
    base = environ_for(name)
    n = 0
    deadline = time.perf_counter() + seconds
    while True:
        for _ in range(10):
            env = dict(base)
            env["wsgi.input"] = io.BytesIO(ECHO)
            result = app(env, start_response)
            for _chunk in result:
                pass
            if hasattr(result, "close"):
                result.close()
        n += 10
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - deadline + seconds)


def main():
    seconds = float(sys.argv[1])
    for spec in sys.argv[2:]:
        name, target = spec.split("=", 1)
        modname, attr = target.split(":", 1)
        app = getattr(importlib.import_module(modname), attr)
        bench(name, app, min(0.2, seconds))  # warm up
        print(name, "%.0f" % bench(name, app, seconds), flush=True)


if __name__ == "__main__":
    main()
