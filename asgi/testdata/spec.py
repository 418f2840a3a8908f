"""A plain ASGI 3.0 app for the spec tests of package asgi: each path shows
one behaviour of the server, and answers what the app saw."""

import asyncio
import json
import os

# What the app heard of requests that outlived their response, by name.
heard = {}


def jsonable(v):
    if isinstance(v, bytes):
        return v.decode("latin-1")
    if isinstance(v, dict):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


async def lifespan(scope, receive, send):
    while True:
        msg = await receive()
        if msg["type"] == "lifespan.startup":
            scope["state"]["greeting"] = "hello from lifespan"
            scope["state"]["pid"] = os.getpid()
            await send({"type": "lifespan.startup.complete"})
        elif msg["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def respond(send, status, body, headers=()):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain")] + list(headers)})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive):
    chunks = []
    while True:
        msg = await receive()
        assert msg["type"] == "http.request", msg
        chunks.append(msg["body"])
        if not msg.get("more_body"):
            return chunks


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(scope, receive, send)
    path = scope["path"].removeprefix(scope["root_path"])
    if path.startswith("/scope"):
        s = {k: v for k, v in scope.items() if k != "state"}
        s["state"] = dict(scope.get("state", {}))
        await respond(send, 200, json.dumps(jsonable(s)).encode())
    elif path == "/echo":
        chunks = await read_body(receive)
        body = b"".join(chunks)
        await respond(send, 200, body, [(b"x-chunks", str(len(chunks)).encode())])
    elif path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for i in range(5):
            await send({"type": "http.response.body", "body": b"chunk %d\n" % i, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/big":
        n = int(scope["query_string"] or b"1000000")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(n).encode())]})
        piece = b"x" * 65536
        left = n
        while left > 0:
            k = min(left, len(piece))
            left -= k
            await send({"type": "http.response.body", "body": piece[:k], "more_body": left > 0})
    elif path == "/trailers":
        await send({"type": "http.response.start", "status": 200, "trailers": True,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"body"})
        await send({"type": "http.response.trailers", "headers": [(b"x-checksum", b"abc")]})
    elif path == "/pathsend":
        name = scope["query_string"].decode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.pathsend", "path": os.path.abspath(name)})
    elif path == "/raise":
        raise RuntimeError("boom before start")
    elif path == "/raise-after":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("boom after start")
    elif path == "/noresponse":
        return
    elif path == "/badheader":
        await respond(send, 200, b"", [(b"x-bad", b"a\r\nInjected: 1")])
    elif path == "/hopbyhop":
        await respond(send, 200, b"", [(b"connection", b"close")])
    elif path == "/status":
        await respond(send, int(scope["query_string"]), b"")
    elif path == "/watch":
        # Streams until the client leaves, then notes that it heard so.
        name = scope["query_string"].decode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        async def stream():
            while True:
                await send({"type": "http.response.body", "body": b"tick\n", "more_body": True})
                await asyncio.sleep(0.01)
        task = asyncio.ensure_future(stream())
        msg = await receive()
        while msg["type"] == "http.request":
            msg = await receive()
        heard[name] = msg["type"]
        task.cancel()
    elif path == "/heard":
        name = scope["query_string"].decode()
        await respond(send, 200, heard.get(name, "nothing").encode())
    elif path == "/gate":
        # Reads its body only once told to: backpressure.
        name = scope["query_string"].decode()
        ev = heard.setdefault("gate:" + name, asyncio.Event())
        await ev.wait()
        chunks = await read_body(receive)
        await respond(send, 200, str(sum(map(len, chunks))).encode())
    elif path == "/open":
        heard["gate:" + scope["query_string"].decode()].set()
        await respond(send, 200, b"opened")
    elif path == "/sleep":
        await asyncio.sleep(float(scope["query_string"]))
        await respond(send, 200, b"slept")
    elif path == "/block":
        import time
        time.sleep(float(scope["query_string"]))
        await respond(send, 200, b"blocked")
    else:
        await respond(send, 404, b"no such test path")


class Callable:
    """An object whose __call__ is a coroutine function, for --interface auto."""

    async def __call__(self, scope, receive, send):
        await app(scope, receive, send)


instance = Callable()


async def no_lifespan(scope, receive, send):
    if scope["type"] != "http":
        raise RuntimeError("only http")
    await respond(send, 200, b"no lifespan here")


async def failing_startup(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})
