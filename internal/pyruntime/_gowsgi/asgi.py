"""An ASGI worker: one event loop, many streams on one channel.

worker.main (or, with preload, the forked child of the zygote) calls serve
once the app is imported.  The loop is made here, so never in a zygote:
uvloop's if it is importable, else asyncio's.  Lifespan startup runs before
Ready; a failed startup is reported as LoadError, with exit status 4, as an
app that does not import.  Then the Mux serves streams until Go shuts its
side of the channel: the open streams finish, lifespan shutdown runs, and
the worker exits 0.
"""

import asyncio
import os
import sys

from . import lifespan
from .asgimux import Mux
from .channel import LOAD_ERROR, READY

try:
    import uvloop
except ImportError:  # the standard library's loop, then
    uvloop = None

# As worker.LOAD_ERROR_STATUS, which imports this module.
LOAD_ERROR_STATUS = 4


def new_loop():
    """A new event loop and the name of its kind, for the Ready info."""
    if uvloop is not None:
        return uvloop.new_event_loop(), "uvloop"
    return asyncio.new_event_loop(), "asyncio"


def serve(app, chan, info):
    """Run lifespan startup, say Ready with info, serve until Go stops us,
    and return; exit 4 if startup failed."""
    loop, kind = new_loop()
    asyncio.set_event_loop(loop)
    life = lifespan.Lifespan(app, loop)
    outcome = loop.run_until_complete(life.startup())
    if outcome == lifespan.FAILED:
        chan.send_text(LOAD_ERROR, "ASGI lifespan startup failed: %s\n"
                       % life.message)
        # os._exit flushes nothing itself: what the app printed goes first.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(LOAD_ERROR_STATUS)
    info = dict(info, interface="asgi", loop=kind, lifespan=outcome)
    chan.send_meta(READY, info)
    try:
        clean = loop.run_until_complete(run(app, loop, chan, life))
    finally:
        stop(loop)
    if not clean:
        sys.exit(1)


async def run(app, loop, chan, life):
    """Serve the channel; True once Go ended it cleanly and shutdown ran."""
    mux = Mux(app, loop, chan.max_meta, life.state)
    await loop.create_unix_connection(lambda: mux, sock=chan.sock)
    clean = await mux.finished
    if clean:
        await life.shutdown()
    await mux.close()
    return clean


def stop(loop):
    """Cancel the tasks still pending (an app's own, the lifespan's if it
    does not return), as asyncio.run does, and close the loop."""
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(
            asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()
