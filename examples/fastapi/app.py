"""A FastAPI application served by gowsgi, as an ASGI app.

From the repository root:

    go run ./cmd/gowsgi serve --python /usr/bin/python3 --chdir examples/fastapi app:app

(--interface auto, the default, finds that app is ASGI.) The interpreter
needs FastAPI and python-multipart (Debian's python3-fastapi and
python3-multipart, or pip install fastapi python-multipart).
"""

import asyncio
import contextlib
import os

from fastapi import BackgroundTasks, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import StreamingResponse

# What background tasks and watched streams left, for the tests to read.
done = {}


@contextlib.asynccontextmanager
async def lifespan(app):
    # Each request's scope["state"] is a copy of what this yields.
    yield {"started_by": "lifespan", "worker_pid": os.getpid()}
    done.clear()


app = FastAPI()
# FastAPI(lifespan=...) from FastAPI 0.93 on; the router's, before.
app.router.lifespan_context = lifespan


@app.get("/api/info")
async def info(request: Request):
    return {
        "framework": "fastapi",
        "path": request.url.path,
        "root_path": request.scope.get("root_path", ""),
        "started_by": request.state.started_by,
        "http_version": request.scope["http_version"],
    }


@app.get("/items/{item_id}")
async def item(item_id: int, q: str = "", limit: int = 10):
    return {"item_id": item_id, "q": q, "limit": limit}


@app.post("/items")
async def create_item(item: dict):
    return {"created": item}


@app.post("/upload")
async def upload(name: str = Form(...), file: UploadFile = File(...)):
    data = await file.read()
    return {"name": name, "filename": file.filename, "size": len(data),
            "head": data[:16].decode("latin-1")}


@app.get("/stream")
async def stream(n: int = 3):
    async def lines():
        for i in range(n):
            yield "line %d\n" % i
            await asyncio.sleep(0)
    return StreamingResponse(lines(), media_type="text/plain")


@app.get("/events")
async def events(n: int = 3):
    async def sse():
        for i in range(n):
            yield "id: %d\ndata: event %d\n\n" % (i, i)
    return StreamingResponse(sse(), media_type="text/event-stream")


@app.post("/notify/{key}")
async def notify(key: str, tasks: BackgroundTasks):
    async def remember():
        await asyncio.sleep(0.01)
        done[key] = "background task ran"
    tasks.add_task(remember)
    return {"queued": key}


@app.get("/watch/{key}")
async def watch(key: str, request: Request):
    # Streams until the client leaves; request.is_disconnected() is
    # http.disconnect from Go.
    async def ticks():
        try:
            while True:
                if await request.is_disconnected():
                    done[key] = "client disconnected"
                    return
                yield "tick\n"
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            done[key] = "client disconnected"
            raise
    return StreamingResponse(ticks(), media_type="text/plain")


@app.get("/done/{key}")
async def get_done(key: str):
    return {"key": key, "done": done.get(key)}
