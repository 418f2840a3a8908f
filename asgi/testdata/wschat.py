"""A Starlette WebSocket chat: every message goes to every client."""

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocketDisconnect

clients = set()


async def chat(ws):
    await ws.accept(subprotocol="chat" if "chat" in ws.scope["subprotocols"] else None)
    clients.add(ws)
    await ws.send_text("joined %d" % len(clients))
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            if msg.get("text") == "bye":
                await ws.close(code=4000, reason="see you")
                return
            for c in list(clients):
                if msg.get("text") is not None:
                    await c.send_text(msg["text"])
                else:
                    await c.send_bytes(msg["bytes"][::-1])
    except WebSocketDisconnect:
        pass
    finally:
        clients.discard(ws)


app = Starlette(routes=[WebSocketRoute("/chat", chat)])
