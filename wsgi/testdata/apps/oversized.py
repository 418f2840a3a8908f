"""Responses too large for the channel's structured frames.

The worker must refuse them itself, as the app's error, instead of sending
a frame past frame.MaxMeta, which would cost the whole worker.  slow holds
its thread until release is called, so that a test sees whether a request
in flight on the same worker survives the others.
"""

import os
import sys
import threading

MIB = 1 << 20
_released = threading.Event()


def big_header(environ, start_response):
    start_response("200 OK", [("X-Big", "h" * MIB)])
    return [b"never sent\n"]


def big_status(environ, start_response):
    start_response("200 " + "s" * (2 * MIB), [])
    return [b"never sent\n"]


def big_exception(environ, start_response):
    raise RuntimeError("big-exception-head " + "e" * (2 * MIB) +
                       " big-exception-tail")


def slow(environ, start_response):
    print("slow request started", file=sys.stderr, flush=True)
    released = _released.wait(20)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"released=%r pid=%d\n" % (released, os.getpid())]


def release(environ, start_response):
    _released.set()
    return pid(environ, start_response)


def pid(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"pid=%d\n" % os.getpid()]


def dispatch(environ, start_response):
    app = globals()[environ["PATH_INFO"].strip("/")]
    return app(environ, start_response)
