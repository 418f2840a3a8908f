"""The ASGI worker's end of its one channel: many streams on one socket.

Mux is an asyncio protocol on the socket (the loop's own I/O, uvloop's or
asyncio's).  It cuts what Go sends into frames (internal/frame describes
them), starts a task per Open, routes Message and Credit to their stream,
and writes the frames the streams send.  Frames are gathered and written
together once the loop has run what was ready (call_soon): a response's
start, body and Done, and those of the other streams that answered
meanwhile, cost one system call, not one each.  (A streamed chunk's send()
yields once, so that it is written before send() returns.)
"""

import marshal
import struct
import sys
import traceback

from .asgistream import (ASGI, SPEC_VERSION, ClientDisconnected, HTTPStream,
                         WebSocketStream)
from .channel import fit_text

OPEN = ord("O")
MESSAGE = ord("M")
CREDIT = ord("K")
_HEADER = struct.Struct("<BI")
_unpack_header = _HEADER.unpack_from
loads = marshal.loads
dumps = marshal.dumps
_pack_header = struct.Struct("<cI").pack
_MESSAGE = b"M"
# http.response.start and body, compact (internal/frame): Head is
# (stream, status, headers, trailers) marshalled, Piece the stream, the
# more_body byte, then the body as it is.
_HEAD = b"H"
_pack_piece = struct.Struct("<cIi?").pack
_PIECE = b"P"
_CREDIT = b"K"
_DONE = b"W"
_pack_done = struct.Struct("<cI3si1s").pack
_KINDS = {"http": HTTPStream, "websocket": WebSocketStream}
# Room for the stream id and the tuple around a Done's traceback.
_DONE_OVERHEAD = 64


def from_disconnect(exc):
    """Whether exc is the ClientDisconnected a send() raised, or an
    exception raised while handling it (Starlette turns it into its own
    ClientDisconnect): the client's leaving, not the app's error."""
    seen = 0
    while exc is not None and seen < 16:
        if isinstance(exc, ClientDisconnected):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


class ProtocolError(Exception):
    """Go sent what the protocol does not allow."""


class Mux:
    """The asyncio protocol of the channel (asyncio.Protocol's methods)."""

    def __init__(self, app, loop, max_meta, state):
        self.app = app
        self.loop = loop
        self.max_meta = max_meta
        self.state = state  # lifespan's: each scope gets a shallow copy
        self.streams = {}
        self.transport = None
        self.out = []
        self.scheduled = False
        self.paused = False
        self.drainers = []
        # Bytes of a frame not yet whole: its parts, how many, how many
        # it takes.
        self.parts = []
        self.have = 0
        self.need = 0
        self.eof = False
        # Its result is True once Go has shut its side and every stream has
        # ended, False if the channel broke.
        self.finished = loop.create_future()
        self.closed = loop.create_future()

    # asyncio.Protocol

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        if self.parts:
            self.parts.append(data)
            self.have += len(data)
            if self.have < self.need:
                return
            data = b"".join(self.parts)
            self.parts = []
        try:
            self._frames(data)
        except Exception:
            # Go is broken or not Go: nothing sensible can follow.
            traceback.print_exc()
            sys.stderr.flush()
            self._finish(False)
            self.transport.abort()
            return
        if not self.scheduled:
            # The flush goes into the loop's queue behind the steps of the
            # tasks this read started or woke: what they send is written
            # in the same round, not one round later (a loop iteration,
            # and a system call, less per wake-up).
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def _frames(self, data):
        end = len(data)
        view = memoryview(data)
        off = 0
        streams = self.streams
        # _dispatch's Open and Message cases inline: every request has one
        # of each.
        while end - off >= 5:
            kind, size = _unpack_header(data, off)
            stop = off + 5 + size
            if stop > end:
                self.need = 5 + size
                break
            if kind == MESSAGE:
                sid, message = loads(view[off + 5:stop])
                stream = streams.get(sid)
                if stream is not None:  # else it ended: Go has yet to see Done
                    stream.deliver(message)
            elif kind == OPEN:
                self._open(*loads(view[off + 5:stop]))
            else:
                self._dispatch(kind, view[off + 5:stop])
            off = stop
        else:
            self.need = 5
        if off < end:
            self.parts = [data[off:]]
            self.have = end - off

    def eof_received(self):
        # Go has shut its side: no more streams, and no Credit nor message
        # for those open, which finish (Go still reads what they send).
        self.eof = True
        for stream in list(self.streams.values()):
            stream.input_ended()
        if not self.streams:
            self._finish(True)
        return True  # keep our half open: the streams still write

    def connection_lost(self, exc):
        self._finish(False)
        if not self.closed.done():
            self.closed.set_result(None)
        self._wake_drainers()

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        self.paused = False
        self._wake_drainers()

    # Frames in.

    def _dispatch(self, kind, payload):
        if kind == MESSAGE:
            sid, message = loads(payload)
            stream = self.streams.get(sid)
            if stream is not None:  # else it ended: Go has yet to see Done
                stream.deliver(message)
        elif kind == CREDIT:
            sid, n = loads(payload)
            if sid == 0:
                # Go's ping (stream 0 is never open): answered from the
                # loop, so that only a loop that is blocked stays silent
                # and is taken for stuck.
                self.credit(0, n)
                return
            stream = self.streams.get(sid)
            if stream is not None:
                stream.credit(n)
        elif kind == OPEN:
            self._open(*loads(payload))
        else:
            raise ProtocolError("unexpected frame type %r" % chr(kind))

    def _open(self, sid, scope, first=None):
        if self.eof:
            raise ProtocolError("Open of stream %d after end of file" % sid)
        if sid in self.streams:
            raise ProtocolError("Open of stream %d, which is open" % sid)
        cls = _KINDS.get(scope.get("type"))
        if cls is None:
            raise ProtocolError("stream %d: scope type %r" % (
                sid, scope.get("type")))
        scope["asgi"] = {"version": ASGI, "spec_version": SPEC_VERSION}
        scope["state"] = self.state.copy()
        stream = cls(self, sid, scope)
        self.streams[sid] = stream
        if first is not None:
            if first.get("type") == cls.DISCONNECT:
                stream.deliver(first)
            else:  # deliver()'s work for a first message, inline
                stream.queue.append(first)
        self.loop.create_task(self._run(stream))

    async def _run(self, stream):
        tb = None
        try:
            await self.app(stream.scope, stream.receive, stream.send)
        except BaseException as e:
            if not (stream.disconnected and from_disconnect(e)):
                tb = traceback.format_exc()
        # The stream's end, inline (once a request).
        sid = stream.id
        del self.streams[sid]
        stream.ended()  # a task the app left waiting in receive() is told
        if tb is not None:
            tb = fit_text(tb, self.max_meta - _DONE_OVERHEAD).decode(
                "utf-8", "ignore")
        if tb is None:
            # (sid, None) as marshal.dumps writes it, header and all.
            self.out.append(_pack_done(_DONE, 8, b")\x02i", sid, b"N"))
            if not self.scheduled:
                self.scheduled = True
                self.loop.call_soon(self.flush)
        else:
            self._frame(_DONE, dumps((sid, tb)))
        if self.eof and not self.streams:
            self._finish(True)

    # Frames out.

    def message(self, sid, message):
        payload = dumps((sid, message))
        size = len(payload)
        if size > self.max_meta:
            raise ValueError(
                "%s of %d bytes exceeds the %d-byte limit of a frame to the "
                "server" % (message["type"], size, self.max_meta))
        # _frame inline: two of these a response.
        out = self.out
        out.append(_pack_header(_MESSAGE, size))
        out.append(payload)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def head(self, sid, status, headers, trailers):
        """Send an http.response.start, checked, as a Head frame."""
        payload = dumps((sid, status, headers, trailers))
        size = len(payload)
        if size > self.max_meta:
            raise ValueError(
                "http.response.start of %d bytes exceeds the %d-byte limit "
                "of a frame to the server" % (size, self.max_meta))
        out = self.out
        out.append(_pack_header(_HEAD, size))
        out.append(payload)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def piece(self, sid, body, more):
        """Send an http.response.body of at most PIECE bytes (bytes or a
        memoryview of them) as a Piece frame: the body is not copied."""
        out = self.out
        out.append(_pack_piece(_PIECE, 5 + len(body), sid, more))
        if body:
            out.append(body)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def credit(self, sid, n):
        self._frame(_CREDIT, dumps((sid, n)))

    def _frame(self, kind, payload):
        out = self.out
        out.append(_pack_header(kind, len(payload)))
        out.append(payload)
        if not self.scheduled:
            self.scheduled = True
            self.loop.call_soon(self.flush)

    def flush(self):
        """Write the frames queued (the call_soon of _frame, or close)."""
        self.scheduled = False
        out = self.out
        if out and self.transport is not None:
            self.out = []
            self.transport.writelines(out)

    async def drain(self):
        """Wait until the socket takes more (or is gone)."""
        if self.paused and not self.closed.done():
            w = self.loop.create_future()
            self.drainers.append(w)
            await w
        if self.closed.done():
            raise ConnectionError("the channel to the server is closed")

    def _wake_drainers(self):
        drainers = self.drainers
        self.drainers = []
        for w in drainers:
            if not w.done():
                w.set_result(None)

    def _finish(self, clean):
        if not self.finished.done():
            self.finished.set_result(clean)

    async def close(self):
        """Write what is left, close the channel and wait until it is."""
        self.flush()
        if self.transport is not None:
            self.transport.close()
            await self.closed
