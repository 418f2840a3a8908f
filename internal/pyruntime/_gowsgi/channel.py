"""Frames on the Unix socket shared with the Go server.

The format is described once, beside its Go codec, in internal/frame.
Each frame is a 5-byte header (type, little-endian payload length) and its
payload; structured payloads are in marshal format, so that encoding and
decoding them is one C call.
"""

import array
import marshal
import select
import socket
import struct

REQUEST = ord("R")
ABORT = ord("A")
READY = b"Y"
LOAD_ERROR = b"L"
START = b"S"
DATA = b"D"
FILE = b"F"
END = b"E"
ERROR = b"X"
# The zygote's control socket (zygote.py).
FORK = ord("C")
FORKED = b"B"
REAPED = b"Z"

HEADER = struct.Struct("<BI")
_pack_len = struct.Struct("<I").pack
_pack_header = struct.Struct("<cI").pack

# Past this, a frame is received straight into a buffer of its own size
# rather than by concatenating reads.
_RECV_SIZE = 65536
# The kernel bounds the buffers of one sendmsg (IOV_MAX is 1024 on Linux).
_MAX_PARTS = 512


class Aborted(Exception):
    """Go asked to stop this response: the client left or it was refused."""


def header(kind, size):
    return kind + _pack_len(size)


def fit_text(text, limit):
    """Encode text for an Error or LoadError frame of at most limit bytes.

    Go refuses a structured frame past its limit by killing the worker, so
    a longer text keeps its head and its tail, where a traceback names its
    first call and the exception, and says what was cut in between.
    """
    data = text.encode("utf-8", "replace")
    if len(data) <= limit:
        return data
    note = ("\n... [truncated: this text of %d bytes exceeds the %d-byte "
            "limit of an error frame; its middle is cut] ...\n"
            % (len(data), limit)).encode("ascii")
    keep = max(limit - len(note), 0)
    # Decoding with "ignore" drops a character cut in two, so the result
    # is valid UTF-8 and no longer than the bytes kept.
    head = data[:keep // 2].decode("utf-8", "ignore").encode("utf-8")
    tail = data[len(data) - (keep - keep // 2):].decode("utf-8", "ignore")
    return (head + note + tail.encode("utf-8"))[:limit]


class Channel:
    """One worker thread's end of the socket pair.

    max_meta is the largest payload Go accepts in a frame other than
    Data (frame.MaxMeta, passed by Go at start): Go kills a worker that
    sends more, with every request in flight on it.
    """

    def __init__(self, sock, max_meta):
        self.sock = sock
        self.max_meta = max_meta
        self.pending = b""
        # A thread blocked in recv() is woken whenever Go reads from the
        # other end (the kernel signals "writable" on the same wait queue),
        # only to find nothing and sleep again: one wasted wake-up per
        # response.  poll() for POLLIN alone is woken only by data.
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        self._wait_readable = poller.poll

    def read_frame(self):
        """Return (type, payload) of the next frame; payload is a memoryview."""
        buf = self.pending
        while len(buf) < 5:
            buf = self._more(buf, 5)
        kind, size = HEADER.unpack_from(buf)
        end = 5 + size
        if len(buf) < end:
            buf = self._more(buf, end)
        self.pending = buf[end:]
        return kind, memoryview(buf)[5:end]

    def _more(self, buf, need):
        if need - len(buf) > _RECV_SIZE:
            return self._fill(buf, need)
        self._wait_readable()
        data = self.sock.recv(_RECV_SIZE)
        if not data:
            raise EOFError("the server closed the channel")
        return buf + data if buf else data

    def _fill(self, buf, need):
        whole = bytearray(need)
        whole[: len(buf)] = buf
        view = memoryview(whole)
        got = len(buf)
        while got < need:
            self._wait_readable()
            n = self.sock.recv_into(view[got:])
            if not n:
                raise EOFError("the server closed the channel")
            got += n
        return bytes(whole)

    def check_abort(self):
        """Raise Aborted if Go has sent Abort; never wait for it."""
        if not self.pending:
            try:
                data = self.sock.recv(_RECV_SIZE, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            if not data:
                raise EOFError("the server closed the channel")
            self.pending = data
        kind, _ = self.read_frame()
        if kind == ABORT:
            raise Aborted()

    def send(self, parts):
        """Send a list of buffers as one write, whatever their number."""
        sock = self.sock
        while parts:
            batch = parts[:_MAX_PARTS]
            parts = parts[_MAX_PARTS:]
            total = sum(map(len, batch))
            sent = sock.sendmsg(batch)
            if sent < total:
                # A signal or a full buffer cut the write short.
                rest = b"".join(batch)[sent:]
                sock.sendall(rest)

    def send_data(self, data):
        """Send one Data frame: header and data in one sendmsg, not copied
        together.  Every chunk of a stream comes this way, so it skips the
        batching of send()."""
        size = len(data)
        sent = self.sock.sendmsg([_pack_header(DATA, size), data])
        if sent < size + 5:
            # A signal cut the write short.
            self.sock.sendall((header(DATA, size) + data)[sent:])

    def send_file(self, parts, fd):
        """Send a list of buffers as one write, with the descriptor fd
        passed along (SCM_RIGHTS): Go then holds the file open itself."""
        rights = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
        sent = self.sock.sendmsg(parts, rights)
        if sent < sum(map(len, parts)):
            # The descriptor went with the first byte; the rest follows.
            self.sock.sendall(b"".join(parts)[sent:])

    def send_text(self, kind, text):
        """Send text as one Error or LoadError frame, cut to fit."""
        data = fit_text(text, self.max_meta)
        self.sock.sendall(header(kind, len(data)) + data)

    def send_meta(self, kind, value):
        body = marshal.dumps(value)
        self.sock.sendall(header(kind, len(body)) + body)
