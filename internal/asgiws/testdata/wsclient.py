"""A python3-websockets client for the WebSocket interop tests.

Run by /usr/bin/python3 (Debian's, with python3-websockets): wsclient.py URL.
It talks to an echo app that accepts the subprotocol chat.v2 and closes with
4001 "done" when sent "close-me", and exits 1 (printing what it saw and what
it expected, as JSON) unless it saw exactly what WANT says. It closes its
first connection with 4000 "bye", for the app to see.
"""
import asyncio
import json
import sys

import websockets

WANT = {
    "subprotocol": "chat.v2",
    "extensions": "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
    "text": "héllo",
    "binary": [0, 1, 2],
    "big_ok": True,
    "server_close": [4001, "done"],
}


async def main(url):
    seen = {}
    async with websockets.connect(
        url, subprotocols=["chat.v1", "chat.v2"], compression="deflate"
    ) as ws:
        seen["subprotocol"] = ws.subprotocol
        seen["extensions"] = ws.response_headers.get("Sec-WebSocket-Extensions")
        await ws.send("héllo")
        seen["text"] = await ws.recv()
        await ws.send(b"\x00\x01\x02")
        seen["binary"] = list(await ws.recv())
        # Compressible and fragmented: deflate and reassembly both matter.
        big = "abcdefgh" * 8192
        await ws.send(iter([big[:1000], big[1000:]]))
        seen["big_ok"] = (await ws.recv()) == big
        await ws.close(code=4000, reason="bye")
    # The app closes this one itself.
    async with websockets.connect(url) as ws:
        await ws.send("close-me")
        try:
            await ws.recv()
        except websockets.ConnectionClosed:
            pass
        seen["server_close"] = [ws.close_code, ws.close_reason]
    if seen != WANT:
        print(json.dumps({"seen": seen, "want": WANT}, indent=1))
        sys.exit(1)


asyncio.run(main(sys.argv[1]))
