"""ASGI apps with lifespan for asgi_test.go."""

import json
import os
import sys


def say(line):
    print(line, file=sys.stderr, flush=True)


async def app(scope, receive, send):
    """Fills the lifespan state at startup; /state shows what a request's
    scope["state"] holds, then changes it (the next must not see that)."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["pid"] = os.getpid()
                scope["state"]["greeting"] = "hello from startup"
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                say("lifespan shutdown in %d" % os.getpid())
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = json.dumps(scope["state"]).encode()
    scope["state"]["mutated"] = True
    await send({"type": "http.response.start", "status": 200})
    await send({"type": "http.response.body", "body": body})


async def failing(scope, receive, send):
    """Cannot start: no database."""
    assert scope["type"] == "lifespan"
    await receive()
    await send({"type": "lifespan.startup.failed",
                "message": "no database at db:5432"})


async def returning(scope, receive, send):
    """Ignores every scope but http, returning at once: no lifespan."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 204})
    await send({"type": "http.response.body"})
