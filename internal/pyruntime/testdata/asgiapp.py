"""Plain ASGI 3.0 callables for asgi_test.go: no framework, each route a
behaviour of the runtime under test.  What cannot be seen on the channel
is printed to stderr, one line each, for the test to wait for."""

import asyncio
import json
import os
import sys
import time

# Bytes the app's send() calls on /chunks have returned from, for /progress.
progress = {"sent": 0}
# Set by /go, awaited by /slowread between its receive() calls; made on
# the loop (before 3.10 an Event made at import would make a loop).
events = {}


def go():
    if "go" not in events:
        events["go"] = asyncio.Event()
    return events["go"]


def say(line):
    print(line, file=sys.stderr, flush=True)


async def app(scope, receive, send):
    # Without lifespan support, as many plain apps: raises on its scope.
    assert scope["type"] in ("http", "websocket"), scope["type"]
    if scope["type"] == "websocket":
        return await websocket(scope, receive, send)
    route = ROUTES.get(scope["path"])
    if route is None:
        return await respond(send, 404, b"no route " + scope["raw_path"])
    await route(scope, receive, send)


async def respond(send, status, body, headers=()):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain")] + list(headers)})
    await send({"type": "http.response.body", "body": body})


async def read_body(receive):
    body = b""
    while True:
        message = await receive()
        assert message["type"] == "http.request", message
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return body


async def hello(scope, receive, send):
    await respond(send, 200, b"hello")


def plain(value):
    """scope as JSON: bytes as latin-1 text, tuples as lists."""
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


async def show_scope(scope, receive, send):
    await read_body(receive)
    body = json.dumps(plain(scope)).encode()
    scope["state"]["mutated"] = True  # must not reach the next scope
    await respond(send, 200, body)


async def echo(scope, receive, send):
    """Each request chunk goes back as soon as it arrives."""
    await send({"type": "http.response.start", "status": 200})
    while True:
        message = await receive()
        await send({"type": "http.response.body", "body": message["body"],
                    "more_body": message["more_body"]})
        if not message["more_body"]:
            return


async def chunks(scope, receive, send):
    """query n*size: n sends of size bytes each."""
    n, size = map(int, scope["query_string"].split(b"*"))
    await read_body(receive)
    await send({"type": "http.response.start", "status": 200})
    for _ in range(n):
        await send({"type": "http.response.body", "body": b"x" * size,
                    "more_body": True})
        progress["sent"] += size
    await send({"type": "http.response.body"})


async def big(scope, receive, send):
    """One send() of query bytes."""
    await read_body(receive)
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body",
                "body": b"y" * int(scope["query_string"])})


async def show_progress(scope, receive, send):
    await respond(send, 200, str(progress["sent"]).encode())


async def slowread(scope, receive, send):
    """Receives a chunk, then waits for /go before the next."""
    total = 0
    while True:
        message = await receive()
        total += len(message["body"])
        if not message["more_body"]:
            break
        await go().wait()
        go().clear()
    await respond(send, 200, str(total).encode())


async def set_go(scope, receive, send):
    go().set()
    await respond(send, 200, b"go")


async def wait(scope, receive, send):
    """Holds its stream open until its body is complete."""
    body = await read_body(receive)
    await respond(send, 200, body)


async def disconnect(scope, receive, send):
    await read_body(receive)
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": b"part",
                "more_body": True})
    message = await receive()
    say("received %s" % message["type"])
    try:
        await send({"type": "http.response.body", "body": b"more",
                    "more_body": True})
    except OSError as e:
        say("send raised %s, an OSError" % type(e).__name__)
        raise


class FrameworkDisconnect(Exception):
    """As Starlette's ClientDisconnect, raised from the server's OSError."""


async def disconnect_wrapped(scope, receive, send):
    """Turns send()'s ClientDisconnected into its own exception."""
    try:
        await disconnect(scope, receive, send)
    except OSError:
        raise FrameworkDisconnect()


async def raise_before(scope, receive, send):
    raise ValueError("before the start")


async def raise_after(scope, receive, send):
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": b"half",
                "more_body": True})
    raise ValueError("after the start")


async def raise_huge(scope, receive, send):
    raise ValueError("x" * 3000000)


async def no_response(scope, receive, send):
    return


async def after_response(scope, receive, send):
    """receive() after the response is complete: http.disconnect."""
    await read_body(receive)
    await respond(send, 200, b"done")
    message = await receive()
    say("after the response: %s" % message["type"])


async def blocking(scope, receive, send):
    blocking_call_on_the_loop()


def blocking_call_on_the_loop():
    say("blocking")
    time.sleep(60)


async def trailers(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"trailer", b"x-checksum")], "trailers": True})
    await send({"type": "http.response.body", "body": b"data"})
    await send({"type": "http.response.trailers",
                "headers": [(b"x-checksum", b"abc")]})


async def pathsend(scope, receive, send):
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.pathsend",
                "path": os.path.abspath(__file__)})


async def normalized(scope, receive, send):
    """What the app may pass that marshal cannot: an IntEnum status, a
    bytearray body, tuple headers, list pairs."""
    import http
    await send({"type": "http.response.start", "status": http.HTTPStatus.OK,
                "headers": ([b"x-a", bytearray(b"1")], (b"x-b", b"2"))})
    await send({"type": "http.response.body", "body": bytearray(b"ok")})


# Each: the messages sent in order; the last must raise.
START = {"type": "http.response.start", "status": 200}
BODY = {"type": "http.response.body", "body": b"x"}
BAD = {
    "body-first": [BODY],
    "two-starts": [START, START],
    "after-complete": [START, BODY, BODY],
    "no-type": [{"status": 200}],
    "type-not-str": [{"type": b"http.response.start"}],
    "not-a-dict": ["http.response.start"],
    "unknown-type": [{"type": "http.response.begin"}],
    "status-str": [{"type": "http.response.start", "status": "200"}],
    "status-missing": [{"type": "http.response.start"}],
    "headers-str": [{"type": "http.response.start", "status": 200,
                     "headers": "x-a: 1"}],
    "header-str-value": [{"type": "http.response.start", "status": 200,
                          "headers": [(b"x-a", "1")]}],
    "header-triple": [{"type": "http.response.start", "status": 200,
                       "headers": [(b"x-a", b"1", b"2")]}],
    "body-str": [START, {"type": "http.response.body", "body": "x"}],
    "more-body-int": [START, {"type": "http.response.body", "body": b"x",
                              "more_body": 1}],
    "trailers-not-offered": [{"type": "http.response.start", "status": 200,
                              "trailers": True}],
    "trailers-early": [{"type": "http.response.start", "status": 200},
                       {"type": "http.response.trailers", "headers": []}],
    "pathsend-int": [START, {"type": "http.response.pathsend", "path": 3}],
    "pathsend-after-body": [START, dict(BODY, more_body=True),
                            {"type": "http.response.pathsend", "path": "/"}],
    "websocket-on-http": [{"type": "websocket.accept"}],
}


async def bad(scope, receive, send):
    case = scope["query_string"].decode()
    messages = BAD[case]
    for message in messages[:-1]:
        await send(message)
    try:
        await send(messages[-1])
    except Exception as e:
        say("bad %s: %s: %s" % (case, type(e).__name__, e))
        return
    say("bad %s: no error" % case)


ROUTES = {
    "/hello": hello,
    "/scope": show_scope,
    "/echo": echo,
    "/chunks": chunks,
    "/big": big,
    "/progress": show_progress,
    "/slowread": slowread,
    "/go": set_go,
    "/wait": wait,
    "/disconnect": disconnect,
    "/disconnect-wrapped": disconnect_wrapped,
    "/raise-before": raise_before,
    "/raise-after": raise_after,
    "/raise-huge": raise_huge,
    "/no-response": no_response,
    "/after-response": after_response,
    "/blocking": blocking,
    "/trailers": trailers,
    "/pathsend": pathsend,
    "/normalized": normalized,
    "/bad": bad,
}


async def websocket(scope, receive, send):
    message = await receive()
    assert message["type"] == "websocket.connect", message
    path = scope["path"]
    if path == "/ws/deny":
        return await send({"type": "websocket.close", "code": 1008})
    if path == "/ws/deny-http":
        await send({"type": "websocket.http.response.start", "status": 401,
                    "headers": [(b"www-authenticate", b"Token")]})
        return await send({"type": "websocket.http.response.body",
                           "body": b"who are you"})
    subprotocols = scope["subprotocols"]
    if path == "/ws/bad-accept":
        try:
            await send({"type": "websocket.accept", "headers": [
                (b"Sec-WebSocket-Protocol", b"chat")]})
        except ValueError as e:
            say("websocket bad accept: %s" % e)
        return await send({"type": "websocket.close"})
    await send({"type": "websocket.accept",
                "subprotocol": subprotocols[0] if subprotocols else None,
                "headers": [(b"x-accepted", b"yes")]})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            say("websocket disconnect %d %s" % (message["code"],
                                                 message.get("reason", "")))
            return
        if message.get("text") == "close":
            return await send({"type": "websocket.close", "code": 4000,
                               "reason": "bye"})
        if message.get("text") == "huge":
            try:
                await send({"type": "websocket.send", "bytes": b"h" * 2000000})
            except ValueError as e:
                say("websocket huge: %s" % e)
            continue
        if message.get("text") == "bad":
            try:
                await send({"type": "websocket.send", "text": "a",
                            "bytes": b"b"})
            except TypeError as e:
                say("websocket bad: %s" % e)
            continue
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
