"""The app-alone limit: call each WSGI or ASGI app in a tight loop on one core.

Prints one line per app: "NAME RPS". For a WSGI app start_response is a
no-op, the body is drained, close() is called: what any server must do at
least once per request. An ASGI app (a coroutine function, or an object whose
__call__ is one) is awaited in one asyncio loop with an http scope for PATH,
a receive() that hands it an empty request body and a send() that drops
every message.

SECONDS and the rates are of the process's CPU time, not the wall clock's: on
a machine whose cores others share, the loop's rate is still what one core
of its own would give.

usage: loop.py SECONDS NAME=MODULE:APP[@PATH] [...]
"""
import asyncio
import importlib
import inspect
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
    deadline = time.process_time() + seconds
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
        now = time.process_time()
        if now >= deadline:
            return n / (now - deadline + seconds)


def asgi_scope(path):
    path, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "extensions": {},
        "state": {},
    }


REQUEST = {"type": "http.request", "body": b"", "more_body": False}


async def receive():
    return REQUEST


async def send(message):
    return None


async def abench(app, path, seconds):
    # One coroutine for the whole loop: the event loop's own cost per call
    # is the server's, not the app's.
    scope = asgi_scope(path)
    n = 0
    deadline = time.process_time() + seconds
    while True:
        for _ in range(10):
            await app(dict(scope), receive, send)
        n += 10
        now = time.process_time()
        if now >= deadline:
            return n / (now - deadline + seconds)


def is_asgi(app):
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(
        getattr(app, "__call__", None))


def main():
    seconds = float(sys.argv[1])
    for spec in sys.argv[2:]:
        name, target = spec.split("=", 1)
        target, _, path = target.partition("@")
        modname, attr = target.split(":", 1)
        app = getattr(importlib.import_module(modname), attr)
        if is_asgi(app):
            asyncio.run(abench(app, path or "/", min(0.2, seconds)))  # warm up
            rate = asyncio.run(abench(app, path or "/", seconds))
        else:
            bench(name, app, min(0.2, seconds))  # warm up
            rate = bench(name, app, seconds)
        print(name, "%.0f" % rate, flush=True)


if __name__ == "__main__":
    main()
