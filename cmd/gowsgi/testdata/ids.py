"""A WSGI application that says which user and groups its worker runs as."""

import os


def ids(environ, start_response):
    """Answers "UID GID [GROUPS]"."""
    body = "%d %d %s" % (os.getuid(), os.getgid(), sorted(os.getgroups()))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode("ascii")]
