"""WSGI apps for the pool's tests with real workers (/usr/bin/python3)."""

import os

# The process that imported this module: the zygote, with preload.
_imported_by = os.getpid()


def app(environ, start_response):
    """Answer "IMPORTER PID": who imported the app, and who serves."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d %d" % (_imported_by, os.getpid())]
