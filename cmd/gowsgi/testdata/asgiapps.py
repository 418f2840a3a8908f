"""ASGI apps for the serve command's tests."""

import asyncio
import os

served = 0


async def app(scope, receive, send):
    """Says who served what: pid, http_version, scheme, path, root_path,
    and the lifespan's state."""
    global served
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                scope["state"]["boot"] = "lifespan-%d" % os.getpid()
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    served += 1
    if scope["path"].endswith("/sleep"):
        await asyncio.sleep(float(scope["query_string"] or b"5"))
    body = "pid=%d http=%s scheme=%s path=%s root=%s state=%s served=%d\n" % (
        os.getpid(), scope["http_version"], scope["scheme"], scope["path"],
        scope["root_path"], scope.get("state", {}).get("boot"), served)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body.encode()})


async def startup_fails(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "cannot reach the database"})
