"""A python3-websockets client for asgiws's interop test.

Run by /usr/bin/python3 (Debian's, with python3-websockets): wsclient.py URL.
It talks to an echo app and prints one JSON line of what it saw, for the Go
test to check.
"""
import asyncio
import json
import sys

import websockets


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
    print(json.dumps(seen))


asyncio.run(main(sys.argv[1]))
