"""ASGI applications for tests/hostile, plain ASGI (no framework).

``app`` records every HTTP request it receives in $RECORD_FILE, in the
format of app.py's WSGI app (so the request corpus checks both alike),
then answers by path.  It records a request as its scope arrives: Go
reads a body's first 64 KiB before it opens a stream, so a small body that
is invalid (all of the corpus's) never reaches the app, as with WSGI.  Some paths misbehave on purpose; others hold their
request open until a WebSocket on the same worker says "release", so that
a test knows which worker holds what when it kills one.

``lifespan_raises``, ``lifespan_hangs`` and ``lifespan_leaks`` are ``app``
with a lifespan that fails at shutdown in three ways.
"""

import asyncio
import os
import signal
import sys

RECORD_FILE = os.environ.get("RECORD_FILE", "")

# Per worker: set by a WebSocket's "release", it ends every /hold and
# /stream request held on this worker.
_release = None

# Per worker: how many bytes /big has handed send() so far, and whether
# send() has returned for the last one.
_progress = {"sent": 0, "done": False, "error": ""}


def release_event():
    global _release
    if _release is None:
        _release = asyncio.Event()
    return _release


def record(scope):
    """Appends "METHOD URI LENGTH HEADERS" to RECORD_FILE in one write."""
    if not RECORD_FILE:
        return
    headers = dict(scope["headers"])
    names = sorted({"HTTP_" + k.decode("latin-1").upper().replace("-", "_")
                    for k, _ in scope["headers"]}
                   - {"HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE"})
    line = "%s %s %s %s\n" % (
        scope["method"], uri(scope),
        headers.get(b"content-length", b"-").decode("latin-1"),
        ",".join(names),
    )
    fd = os.open(RECORD_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode("latin-1", "backslashreplace"))
    finally:
        os.close(fd)


def uri(scope):
    path = scope.get("raw_path") or scope["path"].encode("latin-1", "replace")
    if scope["query_string"]:
        path += b"?" + scope["query_string"]
    return path.decode("latin-1")


async def read_body(receive):
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if not message.get("more_body"):
            return bytes(body)


async def respond(send, body, status=200, headers=()):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain")] + list(headers)})
    await send({"type": "http.response.body", "body": body})


async def ok(scope, receive, send):
    record(scope)
    body = await read_body(receive)
    if body is None:
        return
    path = uri(scope).encode("latin-1", "replace").decode("ascii", "replace")
    await respond(send, b"ok %d\n" % len(body),
                  headers=[(b"x-path", path.encode("ascii"))])


async def until_released(receive):
    """Reads the request body, then waits for this worker's release, or
    the client's disconnect."""
    if await read_body(receive) is None:
        return
    released = asyncio.ensure_future(release_event().wait())
    gone = asyncio.ensure_future(receive())
    await asyncio.wait([released, gone], return_when=asyncio.FIRST_COMPLETED)
    released.cancel()
    gone.cancel()


async def hold(scope, receive, send):
    """Holds the request, unanswered, until released; says so on stderr."""
    print("hold %s pid=%d" % (scope["query_string"].decode(), os.getpid()),
          file=sys.stderr, flush=True)
    await until_released(receive)
    await respond(send, b"released %d\n" % os.getpid())


async def stream(scope, receive, send):
    """Starts a streamed response with its pid, then holds it."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "more_body": True,
                "body": b"pid=%d\n" % os.getpid()})
    await until_released(receive)
    await send({"type": "http.response.body", "body": b"released\n"})


async def big(scope, receive, send):
    """Streams QUERY_STRING bytes in 1 MiB pieces, noting its progress."""
    total = int(scope["query_string"] or b"0")
    chunk = b"x" * (1 << 20)
    _progress.update(sent=0, done=False, error="")
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", b"%d" % total)]})
    try:
        while _progress["sent"] < total:
            piece = chunk[:total - _progress["sent"]]
            await send({"type": "http.response.body", "body": piece,
                        "more_body": True})
            _progress["sent"] += len(piece)
        await send({"type": "http.response.body"})
    except OSError as e:
        # The client left: send() raises ClientDisconnected.
        _progress["error"] = type(e).__name__
    _progress["done"] = True


async def progress(scope, receive, send):
    await respond(send, b"%d %s %s\n" % (
        _progress["sent"], b"done" if _progress["done"] else b"sending",
        _progress["error"].encode() or b"-"))


async def print_junk(scope, receive, send):
    """Writes binary junk, a 1 MiB line and text without a newline to
    stdout and stderr while serving: none of it may reach the channel."""
    sys.stdout.buffer.write(b"junk-start\x00\xff\xfe\x1b[2J\r\x85binary\n")
    sys.stdout.buffer.write(bytes(range(256)))
    sys.stdout.flush()
    sys.stderr.write("huge-line " + "y" * (1 << 20) + "\n")
    sys.stderr.write("no-newline-at-the-end")
    sys.stderr.flush()
    os.write(1, b"\x00\x01\x02frame-like \x00\x00\x00\x10 bytes")
    await respond(send, b"printed\n")
    print("junk-done", flush=True)


async def websocket(scope, receive, send):
    """Accepts, sends its pid, then echoes; "release" sets this worker's
    release, "exit" makes the worker exit at once."""
    if (await receive())["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": "pid=%d" % os.getpid()})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text") or ""
        if text == "exit":
            os._exit(3)
        if text == "release":
            release_event().set()
        await send({"type": "websocket.send", "text": text})


ROUTES = {
    "/hold": hold,
    "/stream": stream,
    "/big": big,
    "/progress": progress,
    "/print": print_junk,
}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    if scope["type"] == "websocket":
        await websocket(scope, receive, send)
        return
    await ROUTES.get(scope["path"], ok)(scope, receive, send)


async def lifespan(receive, send, shutdown=None):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if shutdown is not None:
                await shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


def with_shutdown(shutdown):
    async def wrapped(scope, receive, send):
        if scope["type"] == "lifespan":
            await lifespan(receive, send, shutdown)
        else:
            await app(scope, receive, send)
    return wrapped


async def _raise():
    print("lifespan shutdown raising", file=sys.stderr, flush=True)
    raise RuntimeError("hostile: lifespan shutdown failed")


async def _hang():
    print("lifespan shutdown hanging", file=sys.stderr, flush=True)
    # Never returns, and ignores the cancellation and SIGTERM too.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            pass


async def _stubborn():
    while True:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            pass  # a leaked task that will not be cancelled


async def _leak():
    for _ in range(10):
        asyncio.ensure_future(_stubborn())
        asyncio.ensure_future(asyncio.Event().wait())
    print("lifespan shutdown leaked tasks", file=sys.stderr, flush=True)


lifespan_raises = with_shutdown(_raise)
lifespan_hangs = with_shutdown(_hang)
lifespan_leaks = with_shutdown(_leak)
