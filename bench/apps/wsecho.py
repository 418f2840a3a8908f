"""Plain-ASGI WebSocket echo: every message goes back as it came.

An HTTP request gets a 200 "ok", so the harness can see the server is up
before it opens WebSockets.
"""
from asgihello import lifespan

OK_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"3")],
}
OK_BODY = {"type": "http.response.body", "body": b"ok\n"}


async def echo(receive, send):
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        # websocket.receive carries exactly one of bytes and text.
        if message.get("bytes") is not None:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
        else:
            await send({"type": "websocket.send", "text": message["text"]})


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
    elif scope["type"] == "websocket":
        await echo(receive, send)
    else:
        await send(OK_START)
        await send(OK_BODY)
