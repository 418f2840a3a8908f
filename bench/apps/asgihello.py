"""Plain-ASGI hello: the ASGI twin of hello.py, with lifespan support.

The response is hello.py's, so the WSGI and ASGI tables compare the same
bytes on the wire. The app reads its request (empty) before it answers, as
an app that takes a body must; hypercorn 0.13 (Debian's) also needs that to
keep the connection alive: it closes one whose response ends before it has
parsed the end of the request.
"""

BODY = b"Hello, World!\n"
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(BODY))],
}
RESPONSE = {"type": "http.response.body", "body": BODY}


async def lifespan(receive, send):
    # Servers that run lifespan get their answers; it costs nothing per request.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    message = await receive()
    while message.get("more_body"):
        message = await receive()
    await send(START)
    await send(RESPONSE)
