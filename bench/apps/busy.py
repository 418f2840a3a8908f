"""A CPU-bound hello: each request burns BUSY_US microseconds of Python.

BUSY_US (environment, default 0) is read once at import: the servers and
loop.py start one process per setting, so the cost per request is the
spin alone, not an environment lookup.
"""
import os
import time

BUSY_S = int(os.environ.get("BUSY_US", "0")) / 1e6
BODY = b"Hello, World!\n"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def spin(seconds):
    # CPU time, not wall time: a worker descheduled on a shared core still
    # burns the full amount. The thread's, not the process's: in a threaded
    # worker the other threads' CPU would cut this request's spin short.
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


def application(environ, start_response):
    if BUSY_S > 0:
        spin(BUSY_S)
    start_response("200 OK", HEADERS)
    return [BODY]
