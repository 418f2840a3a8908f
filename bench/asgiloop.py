"""The ASGI worker runtime's own Python work per request, without Go.

The ASGI counterpart of workerloop.py: runs the real runtime of an ASGI
worker (asgi.run: the Mux, its streams, lifespan) on one event loop and
feeds it the frames Go sends for a GET from wrk: an Open carrying the
scope as asgi/scope.go marshals it (keys interned) and the first
http.request message, as internal/worker/mux.go writes it.  A driver on
the same loop holds the other end of a socketpair: each time it reads a
stream's Done it opens the next, keeping CONCURRENCY streams in flight, as
Go does under load.  With --fake there is no socket: the driver is the
Mux's transport, and the figure is the runtime's Python alone, without
the loop's system calls.

Times are of the process's CPU (time.process_time: user and system), so
that others' load on the cores does not count.  It prints, per request,
the whole process, the driver's share (its callbacks, timed), the app
called alone in a loop as bench/apps/loop.py does (same decoded scope,
same loop kind), and what is left: the runtime's own cost.

usage: /usr/bin/python3 bench/asgiloop.py [-n REQUESTS] [-c CONCURRENCY]
           [--loop uvloop|asyncio] [--fake] [--profile] [MODULE:APP[@PATH]]

    bench/asgiloop.py                                  # asgihello, /
    bench/asgiloop.py fastapiapp:app@/items/42?q=hello
    bench/asgiloop.py --loop asyncio -c 1 --profile    # cProfile's top
    ASGILOOP_RUNTIME=/tmp/old/internal/pyruntime bench/asgiloop.py
                                    # the _gowsgi of another checkout

The Open frame's bytes were checked against those a gowsgi server sent a
worker (strace of its read) for the same request.
"""
import argparse
import asyncio
import cProfile
import importlib
import marshal
import os
import pstats
import socket
import struct
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# ASGILOOP_RUNTIME: the directory holding another _gowsgi, to compare.
sys.path[:0] = [os.environ.get("ASGILOOP_RUNTIME")
                or os.path.join(ROOT, "internal", "pyruntime"),
                os.path.join(ROOT, "bench", "apps")]

from _gowsgi import asgi, lifespan  # noqa: E402

MAX_META = 1 << 20  # frame.MaxMeta, as Go passes it to a worker
_HEADER = struct.Struct("<BI")
OPEN, MESSAGE, CREDIT, DONE = b"O", b"M", b"K", b"W"


# The encoding of internal/marshal (AppendKey, AppendText, AppendBytes...),
# which differs from marshal.dumps's: no references, keys as short
# interned str, values as short ASCII str.

def m_key(s):
    return b"Z" + bytes([len(s)]) + s.encode("ascii")


def m_str(s):
    data = s.encode("utf-8")
    if len(data) != len(s):
        return b"u" + struct.pack("<I", len(data)) + data
    if len(data) < 256:
        return b"z" + bytes([len(data)]) + data
    return b"a" + struct.pack("<I", len(data)) + data


def m_bytes(b):
    return b"s" + struct.pack("<I", len(b)) + b


def m_int(i):
    return b"i" + struct.pack("<i", i)


def m_list(items):
    return b"[" + struct.pack("<I", len(items)) + b"".join(items)


def m_dict(pairs):
    return b"{" + b"".join(m_key(k) + v for k, v in pairs) + b"0"


def scope_bytes(target):
    """The scope asgi/scope.go marshals for wrk's GET of target."""
    path, _, query = target.partition("?")
    headers = [(b"host", b"127.0.0.1:8000"),
               # Go adds its request id.
               (b"x-request-id", b"7e439e5dfc909e6bf5ecfd104bc69213")]
    return m_dict([
        ("type", m_str("http")),
        ("http_version", m_str("1.1")),
        ("scheme", m_str("http")),
        ("method", m_str("GET")),
        ("path", m_str(path)),
        ("raw_path", m_bytes(path.encode())),
        ("query_string", m_bytes(query.encode())),
        ("root_path", m_str("")),
        ("headers", m_list([m_list([m_bytes(n), m_bytes(v)])
                            for n, v in headers])),
        ("client", m_list([m_str("127.0.0.1"), m_int(41256)])),
        ("server", m_list([m_str("127.0.0.1"), m_int(8000)])),
        ("extensions", m_dict([("http.response.pathsend", m_dict([]))])),
    ])


FIRST = m_dict([("more_body", b"F"), ("type", m_str("http.request")),
                ("body", m_bytes(b""))])


def frame(kind, sid, value):
    payload = b")\x02" + m_int(sid) + value
    return kind + struct.pack("<I", len(payload)) + payload


def open_frames(sid, scope):
    """What Mux.Open writes: the Open frame, the first message in it; with
    ASGILOOP_OPEN2 set, as Go wrote it before 2026-12-02 (the Open, then a
    Message frame: to drive an older _gowsgi)."""
    if os.environ.get("ASGILOOP_OPEN2"):
        return frame(OPEN, sid, scope) + frame(MESSAGE, sid, FIRST)
    payload = b")\x03" + m_int(sid) + scope + FIRST
    return OPEN + struct.pack("<I", len(payload)) + payload


class Driver:
    """Go's end: opens n streams, conc at a time, and counts their Dones.

    feed(data) takes what the worker wrote and returns what to write back;
    cpu is the CPU time spent in it."""

    def __init__(self, n, conc, scope):
        self.scope = scope
        self.left = n
        self.ended = 0
        self.n = n
        self.conc = conc
        self.rest = b""
        self.messages = 0
        self.cpu = 0.0
        self.opens = {}

    def _open(self, sid):
        self.left -= 1
        b = self.opens.get(sid)
        if b is None:
            b = self.opens[sid] = open_frames(sid, self.scope)
        return b

    def first(self):
        return b"".join(self._open(sid)
                        for sid in range(1, min(self.conc, self.n) + 1))

    def feed(self, data):
        t0 = time.process_time()
        if self.rest:
            data = self.rest + data
        out = []
        off, end = 0, len(data)
        while end - off >= 5:
            kind, size = _HEADER.unpack_from(data, off)
            stop = off + 5 + size
            if stop > end:
                break
            if kind == 0x57:  # Done
                sid, tb = marshal.loads(data[off + 5:stop])
                if tb is not None:
                    raise SystemExit("stream %d failed:\n%s" % (sid, tb))
                self.ended += 1
                if self.left:
                    out.append(self._open(sid))
            elif kind in (0x4D, 0x48, 0x50):  # Message, Head, Piece
                self.messages += 1
            off = stop
        self.rest = data[off:]
        self.cpu += time.process_time() - t0
        return b"".join(out)

    @property
    def finished(self):
        return self.ended == self.n


class Chan:
    """What asgi.run takes of a worker's channel."""

    def __init__(self, sock):
        self.sock = sock
        self.max_meta = MAX_META


async def serve_socket(app, loop, life, driver):
    """asgi.run on one end of a socketpair, the driver on the other."""
    ours, theirs = socket.socketpair()
    ours.setblocking(False)

    def readable():
        try:
            data = ours.recv(262144)
        except BlockingIOError:
            return
        if not data:
            loop.remove_reader(ours.fileno())
            return
        out = driver.feed(data)
        if out:
            ours.sendall(out)
        if driver.finished:
            ours.shutdown(socket.SHUT_WR)

    loop.add_reader(ours.fileno(), readable)
    ours.sendall(driver.first())
    try:
        clean = await asgi.run(app, loop, Chan(theirs), life)
    finally:
        loop.remove_reader(ours.fileno())
        ours.close()
    if not clean:
        raise SystemExit("the runtime did not end cleanly")


class FakeTransport:
    """The Mux's transport, with the driver behind it: what the worker
    writes is fed to the driver at once, and its answer delivered in the
    next loop iteration, as a read would be."""

    def __init__(self, loop, mux, driver):
        self.loop = loop
        self.mux = mux
        self.driver = driver

    def writelines(self, parts):
        out = self.driver.feed(b"".join(parts))
        if out:
            self.loop.call_soon(self.mux.data_received, out)
        if self.driver.finished:
            self.loop.call_soon(self.mux.eof_received)

    def write(self, data):
        self.writelines([data])

    def close(self):
        self.loop.call_soon(self.mux.connection_lost, None)

    def abort(self):
        self.close()


async def serve_fake(app, loop, life, driver):
    """asgi.run's steps, the socket replaced by FakeTransport."""
    mux = asgi.Mux(app, loop, MAX_META, life.state)
    mux.connection_made(FakeTransport(loop, mux, driver))
    loop.call_soon(mux.data_received, driver.first())
    if not await mux.finished:
        raise SystemExit("the runtime did not end cleanly")
    await life.shutdown()
    await mux.close()


def run_runtime(app, loop, args, n, scope, profile=None):
    """CPU seconds of n requests through the runtime, and the driver's."""
    life = lifespan.Lifespan(app, loop)
    if loop.run_until_complete(life.startup()) == lifespan.FAILED:
        raise SystemExit("lifespan startup failed: " + life.message)
    driver = Driver(n, args.c, scope)
    serve = serve_fake if args.fake else serve_socket
    t0 = time.process_time()
    if profile is not None:
        profile.enable()
    loop.run_until_complete(serve(app, loop, life, driver))
    if profile is not None:
        profile.disable()
    total = time.process_time() - t0
    if driver.messages < n:
        raise SystemExit("only %d messages for %d streams" % (
            driver.messages, n))
    return total, driver.cpu


def run_alone(app, loop, n, scope_raw):
    """CPU seconds of n calls of the app alone, as bench/apps/loop.py."""
    scope = marshal.loads(scope_raw)
    scope["asgi"] = {"version": "3.0", "spec_version": "2.4"}
    scope["state"] = {}
    request = marshal.loads(FIRST)

    async def receive():
        return request

    async def send(message):
        return None

    async def many():
        for _ in range(n):
            await app(dict(scope), receive, send)

    t0 = time.process_time()
    loop.run_until_complete(many())
    return time.process_time() - t0


def main():
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-n", type=int, default=50000, help="requests")
    p.add_argument("-c", type=int, default=32,
                   help="streams in flight at once")
    p.add_argument("--loop", choices=("uvloop", "asyncio"),
                   help="default: the runtime's choice (uvloop if importable)")
    p.add_argument("--fake", action="store_true",
                   help="no socket: the driver is the Mux's transport")
    p.add_argument("--profile", action="store_true",
                   help="print cProfile's top functions of the runtime run")
    p.add_argument("app", nargs="?", default="asgihello:application",
                   help="MODULE:APP[@PATH], PATH defaulting to /")
    args = p.parse_args()
    target, _, path = args.app.partition("@")
    module, name = target.split(":")
    app = getattr(importlib.import_module(module), name)
    scope = scope_bytes(path or "/")

    if args.loop == "asyncio":
        loop, kind = asyncio.new_event_loop(), "asyncio"
    elif args.loop == "uvloop":
        import uvloop
        loop, kind = uvloop.new_event_loop(), "uvloop"
    else:
        loop, kind = asgi.new_loop()
    asyncio.set_event_loop(loop)

    run_runtime(app, loop, args, max(args.n // 10, 1), scope)  # warm up
    run_alone(app, loop, max(args.n // 10, 1), scope)
    profile = cProfile.Profile() if args.profile else None
    total, driver = run_runtime(app, loop, args, args.n, scope, profile)
    alone = run_alone(app, loop, args.n, scope)
    us = 1e6 / args.n
    print("%s, %s, %d streams at a time, %d requests: %.2f us/request, of "
          "which the driver %.2f, the app alone %.2f: the runtime %.2f"
          % (args.app, kind, args.c, args.n, total * us, driver * us,
             alone * us, (total - driver - alone) * us))
    if profile is not None:
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    loop.close()


if __name__ == "__main__":
    main()
