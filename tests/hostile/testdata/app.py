"""WSGI applications for tests/hostile.

``app`` records every request it receives, one line each, in the file
named by $RECORD_FILE, so that a test can prove an invalid request never
reached it, then answers by path.  Most paths answer "ok"; the others
misbehave on purpose, as a buggy or hostile application would.
"""

import os
import sys
import time

RECORD_FILE = os.environ.get("RECORD_FILE", "")


def record(environ):
    """Appends "METHOD URI LENGTH HEADERS" to RECORD_FILE in one write.

    HEADERS are the HTTP_* keys, so that a header smuggled into another
    one's value shows.
    """
    if not RECORD_FILE:
        return
    line = "%s %s %s %s\n" % (
        environ["REQUEST_METHOD"],
        environ.get("REQUEST_URI", environ["PATH_INFO"]),
        environ.get("CONTENT_LENGTH", "-"),
        ",".join(sorted(k for k in environ if k.startswith("HTTP_"))),
    )
    fd = os.open(RECORD_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("latin-1", "backslashreplace"))
    finally:
        os.close(fd)


def ok(environ, start_response):
    body = environ["wsgi.input"].read()
    path = environ.get("REQUEST_URI", "")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("X-Path", path.encode("latin-1", "replace")
                               .decode("ascii", "replace"))])
    return [b"ok %d\n" % len(body)]


def header_crlf(environ, start_response):
    """A header value that would split the response if sent as is."""
    start_response("200 OK", [("X-Evil", "a\r\nSet-Cookie: pwned=1")])
    return [b"never sent\n"]


def header_lf(environ, start_response):
    start_response("200 OK", [("X-Evil", "a\nInjected: 1")])
    return [b"never sent\n"]


def header_nul(environ, start_response):
    start_response("200 OK", [("X-Evil", "a\x00b")])
    return [b"never sent\n"]


def header_name(environ, start_response):
    start_response("200 OK", [("X-Evil\r\nInjected", "1")])
    return [b"never sent\n"]


def status_crlf(environ, start_response):
    start_response("200 OK\r\nSet-Cookie: pwned=1", [])
    return [b"never sent\n"]


def status_garbage(environ, start_response):
    start_response("hello", [])
    return [b"never sent\n"]


def status_short(environ, start_response):
    start_response("99 Too Low", [])
    return [b"never sent\n"]


def fork(environ, start_response):
    """Forks a child that lingers with every fd the worker had.

    The child writes its pid to $FORK_PID_FILE and leaves after
    $FORK_LINGER seconds (the test kills it sooner if it can), without
    running any of the parent's cleanup.
    """
    pid = os.fork()
    if pid == 0:
        try:
            time.sleep(float(os.environ.get("FORK_LINGER", "5")))
        finally:
            os._exit(0)
    with open(os.environ["FORK_PID_FILE"], "a") as f:
        f.write("%d\n" % pid)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"forked %d\n" % pid]


LEAKED = []


def leak_fds(environ, start_response):
    """Opens 200 files and never closes them."""
    for _ in range(200):
        LEAKED.append(open(os.devnull))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"leaked %d\n" % len(LEAKED)]


def leak_all_fds(environ, start_response):
    """Opens files until the worker's fd limit, then answers (or fails)."""
    try:
        while True:
            LEAKED.append(open(os.devnull))
    except OSError:
        pass
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"leaked %d\n" % len(LEAKED)]


def print_mb(environ, start_response):
    """Prints 8 MiB to stdout without a newline, and 8 MiB to stderr."""
    chunk = "x" * (1 << 20)
    for _ in range(8):
        sys.stdout.write(chunk)
        sys.stderr.write(chunk)
    sys.stdout.flush()
    sys.stderr.flush()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"printed\n"]


def raises_after_start(environ, start_response):
    start_response("200 OK", [("Content-Length", "100")])
    yield b"partial"
    raise RuntimeError("hostile: failed mid-body")


def exits(environ, start_response):
    os._exit(3)


def sleep(environ, start_response):
    time.sleep(float(environ.get("QUERY_STRING") or "1"))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"slept\n"]


ROUTES = {
    "/header-crlf": header_crlf,
    "/header-lf": header_lf,
    "/header-nul": header_nul,
    "/header-name": header_name,
    "/status-crlf": status_crlf,
    "/status-garbage": status_garbage,
    "/status-short": status_short,
    "/fork": fork,
    "/leak-fds": leak_fds,
    "/leak-all-fds": leak_all_fds,
    "/print-mb": print_mb,
    "/raise-after-start": raises_after_start,
    "/exit": exits,
    "/sleep": sleep,
}


def app(environ, start_response):
    record(environ)
    return ROUTES.get(environ["PATH_INFO"], ok)(environ, start_response)
