"""WSGI applications that exercise PEP 3333 corner cases, one per callable.

The tests in container_test.go name them as "pep:<callable>".  Where an app
must be observed from outside (close() called, output printed), it writes a
line to stderr, which the container logs tagged with the worker id.
"""

import hashlib
import json
import os
import signal
import sys
import threading
import warnings
from wsgiref.validate import validator, WSGIWarning


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello world!\n"]


def simple_app(environ, start_response):
    # The seed's own example: str chunks, which PEP 3333 forbids.
    start_response("200 OK", [("Content-type", "text/plain")])
    return ["Hello world!\n"]


def environ_json(environ, start_response):
    out = {k: v for k, v in environ.items() if type(v) is str}
    out["types"] = {k: type(v).__name__ for k, v in environ.items()}
    for k in ("wsgi.multithread", "wsgi.multiprocess", "wsgi.run_once",
              "wsgi.input_terminated"):
        out[k] = environ[k]
    out["wsgi.version"] = list(environ["wsgi.version"])
    # PATH_INFO as the bytes it stands for, to check the latin-1 round trip.
    out["path_bytes"] = environ["PATH_INFO"].encode("latin-1").hex()
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def whoami(environ, start_response):
    """Answers with this worker's pid and the wsgi.multiprocess it sees."""
    body = json.dumps({"pid": os.getpid(),
                       "multiprocess": environ["wsgi.multiprocess"]})
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body.encode()]


def read_body(environ, start_response):
    """Read wsgi.input the way the 'how' query asks and describe it."""
    inp = environ["wsgi.input"]
    how = environ["QUERY_STRING"]
    if how == "read":
        data = inp.read()
    elif how == "read-n":
        parts = []
        while True:
            part = inp.read(1000)
            if not part:
                break
            parts.append(part)
        data = b"".join(parts)
    elif how == "readline":
        lines = []
        while True:
            line = inp.readline()
            if not line:
                break
            lines.append(line)
        data = b"".join(lines)
    elif how == "readlines":
        data = b"".join(inp.readlines())
    elif how == "iter":
        data = b"".join(line for line in inp)
    else:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = inp.read(length)
    after = inp.read(10)  # must be at EOF now
    out = {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "content_length": environ.get("CONTENT_LENGTH"),
        "terminated": environ.get("wsgi.input_terminated"),
        "after": after.decode("latin-1"),
        "expect": environ.get("HTTP_EXPECT"),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(out).encode()]


class Tracked:
    """An iterable that reports its close() on stderr."""

    def __init__(self, name, chunks):
        self.name = name
        self.chunks = chunks

    def __iter__(self):
        return iter(self.chunks)

    def close(self):
        print("CLOSED %s" % self.name, file=sys.stderr, flush=True)


def tracked(environ, start_response):
    """close() is reported for each outcome named in the query."""
    name = environ["QUERY_STRING"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    if name.startswith("error"):
        return Tracked(name, failing_chunks())
    return Tracked(name, [b"a", b"b"])


def failing_chunks():
    yield b"partial"
    raise RuntimeError("failed after output")


def fifo_stream(environ, start_response):
    """Yield 'first', wait until the test writes to the fifo, yield more.

    The client must see 'first' while the generator is blocked: that is
    true streaming.
    """
    path = environ["QUERY_STRING"]
    start_response("200 OK", [("Content-Type", "text/plain")])

    def chunks():
        yield b"first\n"
        with open(path) as f:
            word = f.readline().strip()
        yield ("then %s\n" % word).encode()
    return chunks()


def burst_stream(environ, start_response):
    """Yield 300 short lines back to back, then wait for the fifo: the
    client must have every line while the generator is blocked, however
    the server gathered them."""
    path = environ["QUERY_STRING"]
    start_response("200 OK", [("Content-Type", "text/plain")])

    def chunks():
        for i in range(300):
            yield b"line %d\n" % i
        with open(path) as f:
            word = f.readline().strip()
        yield ("then %s\n" % word).encode()
    return chunks()


def endless(environ, start_response):
    """Stream until the client leaves; close() says so."""
    start_response("200 OK", [("Content-Type", "text/plain")])

    def chunks():
        for i in range(100000):
            yield b"x" * 1024
    return Tracked("endless-" + environ["QUERY_STRING"], chunks())


def write_then_iterable(environ, start_response):
    write = start_response("200 OK", [("Content-Type", "text/plain")])
    write(b"written ")
    write(b"")
    return [b"then ", b"", b"returned"]


def exc_info_before_output(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise ValueError("changed my mind")
    except ValueError:
        start_response("503 Service Unavailable",
                       [("Content-Type", "text/plain"), ("X-Why", "exc_info")],
                       sys.exc_info())
    return [b"replaced"]


def exc_info_after_output(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def chunks():
        yield b"started"
        try:
            raise ValueError("too late")
        except ValueError:
            start_response("500 Oops", [], sys.exc_info())
        yield b"never"
    return chunks()


def second_start_response(environ, start_response):
    start_response("200 OK", [])
    start_response("201 Created", [])
    return [b"no"]


def raises(environ, start_response):
    1 / 0


def raises_after_output(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])

    def chunks():
        yield b"some of it"
        raise KeyError("halfway")
    return chunks()


def empty_then_raise(environ, start_response):
    # Headers go out with the first non-empty chunk: an error before it
    # can still become a clean 500.
    start_response("200 OK", [("Content-Type", "text/plain")])

    def chunks():
        yield b""
        raise KeyError("before any byte")
    return chunks()


def bad_start(environ, start_response):
    """start_response with the flaw named in the query."""
    flaw = environ["QUERY_STRING"]
    status, headers = "200 OK", [("Content-Type", "text/plain")]
    if flaw == "status":
        status = "200OK"
    elif flaw == "status-bytes":
        status = b"200 OK"
    elif flaw == "crlf":
        headers.append(("X-Split", "a\r\nSet-Cookie: evil=1"))
    elif flaw == "hop":
        headers.append(("Connection", "close"))
    elif flaw == "int":
        headers.append(("X-Count", 3))
    elif flaw == "latin1":
        headers.append(("X-Name", "\u20ac"))
    elif flaw == "name":
        headers.append(("Bad Name", "x"))
    elif flaw == "tuple":
        headers.append(["X-List", "x"])
    start_response(status, headers)
    return [b"should not be seen"]


def content_length(environ, start_response):
    """Declare one length and send another, as the query says: DECLARED-SENT,
    or DECLARED-SENT-N to send it in N chunks back to back."""
    declared, sent, pieces = (environ["QUERY_STRING"] + "-1").split("-")[:3]
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", declared)])

    def chunks():
        for _ in range(int(pieces)):
            yield b"x" * (int(sent) // int(pieces))
    return chunks()


def status(environ, start_response):
    """Any status, with a body the server must drop where none is allowed."""
    code = environ["QUERY_STRING"]
    start_response(code + " Whatever", [("Content-Type", "text/plain")])
    return [b"body"]


def file_wrapper(environ, start_response):
    """Serve this very file through wsgi.file_wrapper, in the way the query
    names: from a real file (sent by Go), at an offset, past a shorter
    Content-Length, from a file-like object or a pipe (iterated here)."""
    wrapper = environ["wsgi.file_wrapper"]
    path = os.path.abspath(__file__)
    size = os.path.getsize(path)
    how = environ["QUERY_STRING"]
    f = open(path, "rb")
    if how == "offset":
        f.read(100)  # buffered: the real position is past 100
        size -= 100
    elif how == "unbuffered-offset":
        f = open(path, "rb", buffering=0)
        f.seek(100)
        size -= 100
    elif how == "short":
        size -= 10  # the file goes on past the Content-Length
    elif how == "filelike":
        import io
        f = io.BytesIO(f.read())
    elif how == "pipe":
        data = f.read()
        f.close()
        r, w = os.pipe()
        threading.Thread(target=_write_all, args=(w, data)).start()
        f = os.fdopen(r, "rb")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(size))])
    return wrapper(f, 4096)


def _write_all(fd, data):
    with os.fdopen(fd, "wb") as w:
        w.write(data)


# The file file_kept keeps open between requests.
_kept = []


def file_kept(environ, start_response):
    """Keep this file open, at offset 100, and serve it through a wrapper
    over a second descriptor that shares the first one's position
    ("?serve"); "?where" reports that position, which sending the file must
    not have moved, or "none" from a worker that kept no file."""
    if environ["QUERY_STRING"] == "where":
        body = b"none"
        if _kept:
            body = str(os.lseek(_kept[0].fileno(), 0, os.SEEK_CUR)).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    path = os.path.abspath(__file__)
    kept = open(path, "rb", buffering=0)
    kept.seek(100)
    _kept[:] = [kept]
    f = os.fdopen(os.dup(kept.fileno()), "rb")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(os.path.getsize(path) - 100))])
    return environ["wsgi.file_wrapper"](f)


def big_file(environ, start_response):
    """Serve a file of the query's size in MiB, of numbered lines, through
    wsgi.file_wrapper, and delete it at once: Go still holds it open."""
    import tempfile
    size = int(environ["QUERY_STRING"]) << 20
    f = tempfile.TemporaryFile()
    f.write(b"".join(b"%015d\n" % i for i in range(size // 16)))
    f.seek(0)
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(size))])
    return environ["wsgi.file_wrapper"](f)


def die(environ, start_response):
    """End this worker process the way the query says."""
    how = environ["QUERY_STRING"]
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif how == "exit":
        os._exit(3)
    elif how == "segv":
        import ctypes
        ctypes.string_at(0)
    elif how == "after-output":
        start_response("200 OK", [("Content-Type", "text/plain")])

        def chunks():
            yield b"before death"
            os.kill(os.getpid(), signal.SIGKILL)
        return chunks()
    start_response("200 OK", [])
    return [b"alive"]


def hang(environ, start_response):
    """Never answer, in a function whose name the stack dump shows."""
    import time

    def hang_here_for_ever():
        time.sleep(3600)
    hang_here_for_ever()


_hoard = []


def grow(environ, start_response):
    """Keep 64 MB more each call: a leak for the memory limit to catch."""
    _hoard.append(bytearray(64 << 20))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]


def noisy(environ, start_response):
    """Print a lot, even on the file descriptors next to the channel's."""
    sys.stdout.write("N" * (1 << 17) + "\n")
    sys.stdout.write("noisy stdout line\n")
    print("noisy stderr line", file=sys.stderr)
    environ["wsgi.errors"].write("noisy wsgi.errors line\n")
    os.write(1, b"raw fd 1 line\n")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"still fine"]


def pid(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getpid()).encode()]


_barrier = threading.Barrier(2, timeout=10)


def rendezvous(environ, start_response):
    """Two requests that can only finish together: proof of threads."""
    _barrier.wait()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"met"]


# A warning from the validator is a failure, not a log line.
warnings.simplefilter("error", WSGIWarning)

validated_hello = validator(hello)
validated_environ = validator(environ_json)
validated_write = validator(write_then_iterable)


def _read_n(environ, start_response):
    inp = environ["wsgi.input"]
    n = int(environ.get("CONTENT_LENGTH") or 0)
    data = inp.read(n)
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(data)))])
    return [data]


validated_echo = validator(_read_n)
validated_file = validator(file_wrapper)


# Which process imported this module: with preload, the zygote's pid in
# every worker.
_imported_by = os.getpid()


def imported_by(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d %d" % (_imported_by, os.getpid())]


def dispatch(environ, start_response):
    """Serve the app named by the X-App header, so that one container
    serves every case and paths stay free for the test."""
    app = globals()[environ.get("HTTP_X_APP", "hello")]
    return app(environ, start_response)


def endless_with_length(environ, start_response):
    """An endless generator behind a Content-Length: PEP 3333's server stops
    iterating once enough data has been sent, then calls close()."""
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", "10")])

    def chunks():
        yield b"x" * 10
        while True:
            yield b""  # nothing more, and no end
    return Tracked("endless-length", chunks())
