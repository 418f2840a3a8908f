"""A plain ASGI WebSocket echo for the python3-websockets interop test.

It accepts chat.v2 when offered, echoes text and bytes, closes with 4001
"done" when told "close-me", and returns on websocket.disconnect.
"""


async def app(scope, receive, send):
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    sub = "chat.v2" if "chat.v2" in scope["subprotocols"] else None
    await send({"type": "websocket.accept", "subprotocol": sub})
    while True:
        msg = await receive()
        if msg["type"] == "websocket.disconnect":
            return
        if msg.get("text") == "close-me":
            await send({"type": "websocket.close", "code": 4001, "reason": "done"})
        elif msg.get("text") is not None:
            await send({"type": "websocket.send", "text": msg["text"]})
        else:
            await send({"type": "websocket.send", "bytes": msg["bytes"]})
