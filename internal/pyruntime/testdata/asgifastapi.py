"""A FastAPI app for asgi_test.go: Debian's python3-fastapi and starlette."""

import asyncio
import contextlib
import sys

from fastapi import BackgroundTasks, FastAPI, Request, WebSocket
from fastapi.responses import StreamingResponse


def say(line):
    print(line, file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def lifespan(app):
    yield {"db": "connected"}
    say("fastapi shutdown")


app = FastAPI()
# FastAPI 0.92 (Debian's) takes no lifespan argument; its Starlette router
# does, with state (Starlette 0.26).
app.router.lifespan_context = lifespan


@app.get("/items/{item_id}")
async def item(item_id: int, q: str = ""):
    return {"item_id": item_id, "q": q}


@app.get("/state")
async def state(request: Request):
    return {"db": request.state.db}


@app.get("/stream")
async def stream():
    async def gen():
        for i in range(3):
            yield b"chunk%d\n" % i
    return StreamingResponse(gen(), media_type="text/plain")


@app.get("/forever")
async def forever(request: Request):
    async def gen():
        i = 0
        while True:
            yield b"tick%d\n" % i
            i += 1
            await asyncio.sleep(0.01)
    return StreamingResponse(gen(), media_type="text/plain")


@app.get("/polled")
async def polled(request: Request):
    while not await request.is_disconnected():
        await asyncio.sleep(0.01)
    say("polled: disconnected")
    return {}


@app.post("/background")
async def background(tasks: BackgroundTasks):
    tasks.add_task(say, "background task ran")
    return {"queued": True}


@app.websocket("/ws")
async def ws(websocket: WebSocket):
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text.upper())
    say("fastapi websocket done")
