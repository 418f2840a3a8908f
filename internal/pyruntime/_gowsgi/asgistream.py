"""One ASGI connection scope on the worker's channel: its receive and send.

Go's messages for a stream arrive through deliver() and wait in a queue for
the app's receive(); the app's send() checks each message as uvicorn does
(a wrong type key, a value of the wrong type, a message out of order raise
in the app) and hands Go a dict of exactly the spec's keys, defaults filled
in, so that Go reads one form only (a response's start and body go in the
compact Head and Piece frames, which Go reads as those dicts).

Flow control, per stream and direction, counts payload bytes (a body, the
bytes of a WebSocket message; a text counts its code points, len(str), as
Go does): receive() credits Go with each payload it hands the app, and
send() waits while Go has not credited WINDOW bytes of what was sent.
"""

from collections import deque
from types import coroutine

WINDOW = 256 * 1024
# A body the app sends whole is cut into frames of at most this many
# bytes: frames stay far below Go's limit on one, and several fit in the
# window, so that Go writes one to the client while the next arrives.
PIECE = 64 * 1024

ASGI = "3.0"
SPEC_VERSION = "2.4"


class ClientDisconnected(OSError):
    """send() on a stream whose client has gone (ASGI HTTP and WebSocket
    spec 2.4: "a server-specific subclass of OSError").

    It is raised once Go's disconnect message has reached the worker,
    whether or not the app has received it yet; a stream whose app lets it
    propagate ends as one that returned.
    """


class Stream:
    """What HTTP and WebSocket streams share: the inbound queue, credit
    both ways, and the frames out (through the Mux)."""

    __slots__ = ("mux", "id", "scope", "queue", "waiters", "unacked",
                 "credit_waiters", "disconnected", "farewell", "state")

    def __init__(self, mux, sid, scope):
        self.mux = mux
        self.id = sid
        self.scope = scope
        # Most often a message or two: a list, as an empty deque costs 600
        # bytes more per stream; a deque once it holds more (deliver).
        self.queue = []
        # Futures of tasks waiting in receive() and for credit: () until
        # one waits, as most streams never do (a list each costs two
        # allocations, and the collector's attention, per request).
        self.waiters = ()
        self.unacked = 0  # payload bytes sent to Go and not yet credited
        self.credit_waiters = ()
        self.disconnected = False
        # What receive() returns once the stream is over and nothing is
        # queued: Go's disconnect message, or one made when the app ended
        # (ENDED until receive() makes it).
        self.farewell = None
        self.state = 0

    # From Go.

    def deliver(self, message):
        if message.get("type") == self.DISCONNECT:
            self.disconnected = True
            self.farewell = message
            self._credited()
        queue = self.queue
        queue.append(message)
        if len(queue) > 8 and type(queue) is list:
            # A client faster than its app (the window counts bytes, so
            # tiny messages can be many): taking each from the front of a
            # deque costs O(1), of a list O(n).
            self.queue = deque(queue)
        if self.waiters:
            self.waiters = wake(self.waiters)

    def credit(self, n):
        self.unacked -= n
        if self.unacked < WINDOW:
            self._credited()

    def _credited(self):
        if self.credit_waiters:
            self.credit_waiters = wake(self.credit_waiters)

    def _wake(self):
        if self.waiters:
            self.waiters = wake(self.waiters)

    # To the app.

    async def receive(self):
        while not self.queue:  # read again each time: deliver may swap it
            farewell = self.farewell
            if farewell is not None:
                if farewell is ENDED:
                    farewell = self.farewell = self.final_message()
                return farewell
            # One future per waiting task: two tasks may wait at once
            # (a body reader and a disconnect listener), and one of them
            # cancelled must not cancel the other.
            w = self.mux.loop.create_future()
            self.waiters += (w,)
            await w
        queue = self.queue
        message = queue[0]
        del queue[0]  # a list's or a deque's front
        n = self.inbound_size(message)
        if n:
            self.mux.credit(self.id, n)
        return message

    async def _push(self, message, n, state, written=False):
        """Send message (n payload bytes) to Go, enter state, then wait as
        flow control says, and if written until the frame is written.
        Nothing changes if the frame cannot be sent."""
        self.mux.message(self.id, message)
        self.state = state
        self.unacked += n
        if written or (n and self.unacked >= WINDOW) or self.mux.paused:
            await self._settle(written, n)

    async def _settle(self, written, n):
        """What _push waits for once its frame is queued: the write if
        written, credit under the window if n, a socket that takes more.
        The send() fast paths call it only when there is a wait."""
        mux = self.mux
        if written:
            # The Mux writes what the loop's ready callbacks sent at the
            # end of their round (call_soon, scheduled before this task's
            # next step): yielding once has it written.
            await sleep0()
        if n:
            while (self.unacked >= WINDOW and not self.disconnected
                   and not mux.eof):
                # One each, as for receive(): two tasks may send at once.
                w = mux.loop.create_future()
                self.credit_waiters += (w,)
                await w
        if mux.paused:
            await mux.drain()

    async def _push_body(self, kind, body, more, state, during):
        """Send body as one message or, past PIECE, as several, the last
        with more; the stream is in state during after each piece but the
        last, and enters state with the last."""
        n = len(body)
        if n <= PIECE:
            await self._push({"type": kind, "body": body, "more_body": more},
                             n, state, more)
            return
        view = memoryview(body)
        http = kind == "http.response.body"
        for start in range(0, n, PIECE):
            if self.disconnected:
                raise ClientDisconnected(self._gone())
            last = start + PIECE >= n
            piece = view[start:start + PIECE]
            going = more or not last
            if http:  # as a Piece frame, as send() sends a short body
                self.mux.piece(self.id, piece, going)
                self.state = state if last else during
                self.unacked += len(piece)
                await self._settle(going, len(piece))
            else:
                await self._push({"type": kind, "body": piece,
                                  "more_body": going},
                                 len(piece), state if last else during,
                                 going)

    def input_ended(self):
        """Go will send nothing more (a graceful stop): no Credit can come,
        so the window no longer holds send() back."""
        self._credited()

    def _gone(self):
        return "stream %d: the client has gone" % self.id

    def ended(self):
        """The app will send no more: wake whoever waits in receive()."""
        if self.farewell is None:
            # final_message() once receive() asks: most apps never do.
            self.farewell = ENDED
        if self.waiters:
            self.waiters = wake(self.waiters)


# Stream.farewell of a stream the app ended, until receive() is called.
ENDED = object()


@coroutine
def sleep0():
    """Yield to the loop once: asyncio.sleep(0) without its checks."""
    yield


def wake(waiters):
    """Wake each future of waiters that is still waited for; return the
    new, empty tuple."""
    for w in waiters:
        if not w.done():
            w.set_result(None)
    return ()


# HTTP stream states: STARTED until the first body, STREAMING after it
# (a pathsend then may not follow), TRAILING once trailers are due.
NEW, STARTED, STREAMING, TRAILING, COMPLETE = range(5)


class HTTPStream(Stream):
    __slots__ = ("trailers",)

    DISCONNECT = "http.disconnect"

    # No __init__ of its own (a call less per request): trailers is set by
    # _start, which every path that reads it follows (the state machine).

    @staticmethod
    def inbound_size(message):
        body = message.get("body")
        return len(body) if body else 0

    @staticmethod
    def final_message():
        return {"type": "http.disconnect"}

    async def send(self, message):
        if self.disconnected:
            raise ClientDisconnected(self._gone())
        # A response's start and body take the paths written out here, with
        # the checks of message_type, get_bytes, get_bool and _push inline:
        # each call and each awaited coroutine costs as much as a check.
        kind = message.get("type") if type(message) is dict else None
        if type(kind) is not str:
            kind = message_type(message)
        state = self.state
        if kind == "http.response.body" and state in (STARTED, STREAMING):
            body = message.get("body", b"")
            if type(body) is not bytes:
                body = as_bytes(body, "body", kind)
            more = message.get("more_body", False)
            if more is not False and more is not True:
                get_bool(message, "more_body", kind)  # raises
            if more:
                end = STREAMING
            elif self.trailers:
                end = TRAILING
            else:
                end = COMPLETE
            n = len(body)
            if n > PIECE:
                await self._push_body(kind, body, more, end, STREAMING)
            else:
                mux = self.mux
                mux.piece(self.id, body, more)
                self.state = end
                self.unacked += n
                if more or (n and self.unacked >= WINDOW) or mux.paused:
                    await self._settle(more, n)
            if end == COMPLETE:
                self.ended()
        elif kind == "http.response.start" and state == NEW:
            self._start(message, kind)
            if self.mux.paused:
                await self.mux.drain()
        elif kind == "http.response.pathsend" and state == STARTED:
            path = get_str(message, "path", kind, required=True)
            end = self._after_body()
            await self._push({"type": kind, "path": path}, 0, end)
            if end == COMPLETE:
                self.ended()
        elif kind == "http.response.trailers" and state == TRAILING:
            headers = get_headers(message, kind)
            more = get_bool(message, "more_trailers", kind)
            await self._push({"type": kind, "headers": headers,
                              "more_trailers": more},
                             0, TRAILING if more else COMPLETE)
            if not more:
                self.ended()
        else:
            raise RuntimeError(out_of_order(kind, state))

    def _start(self, message, kind):
        """Check http.response.start and send it (send() then drains)."""
        status = message.get("status")
        if type(status) is not int:
            status = get_status(message, kind)
        headers = get_headers(message, kind)
        trailers = message.get("trailers", False)
        if trailers is not False and trailers is not True:
            get_bool(message, "trailers", kind)  # raises
        if trailers and "http.response.trailers" not in (
                self.scope.get("extensions") or ()):
            raise RuntimeError(
                "http.response.start asks for trailers, but this request "
                "does not allow them (scope['extensions'] has no "
                "'http.response.trailers')")
        self.mux.head(self.id, status, headers, trailers)
        self.trailers = trailers
        self.state = STARTED

    def _after_body(self):
        return TRAILING if self.trailers else COMPLETE


def out_of_order(kind, state):
    if state == NEW:
        return ("Expected ASGI message 'http.response.start', but got "
                "'%s'." % kind)
    if state == STARTED:
        return ("Expected ASGI message 'http.response.body' or "
                "'http.response.pathsend', but got '%s'." % kind)
    if state == STREAMING:
        return ("Expected ASGI message 'http.response.body', but got '%s'."
                % kind)
    if state == TRAILING:
        return ("Expected ASGI message 'http.response.trailers', but got "
                "'%s'." % kind)
    return ("Unexpected ASGI message '%s' sent, after response already "
            "completed." % kind)


# WebSocket stream states.
CONNECTING, CONNECTED, CLOSED, DENYING, DENIED = range(5)


class WebSocketStream(Stream):
    __slots__ = ("close_code",)

    DISCONNECT = "websocket.disconnect"

    def __init__(self, mux, sid, scope):
        Stream.__init__(self, mux, sid, scope)
        self.close_code = 1000

    @staticmethod
    def inbound_size(message):
        data = message.get("bytes")
        if data is not None:
            return len(data)
        return text_size(message.get("text"))

    def final_message(self):
        return {"type": "websocket.disconnect", "code": self.close_code,
                "reason": ""}

    def input_ended(self):
        # Nothing from the client can reach the app any more: it is told
        # so as a server restart (1012, as uvicorn's shutdown closes
        # WebSockets), rather than wait in receive() until it is killed.
        Stream.input_ended(self)
        if not self.disconnected and self.state in (CONNECTING, CONNECTED):
            self.deliver({"type": "websocket.disconnect", "code": 1012,
                          "reason": "server restart"})

    async def send(self, message):
        if self.disconnected:
            raise ClientDisconnected(self._gone())
        kind = message_type(message)
        state = self.state
        if kind == "websocket.send" and state == CONNECTED:
            await self._send_data(message, kind)
        elif kind == "websocket.close" and state in (CONNECTING, CONNECTED):
            code = get_int(message, "code", kind, 1000)
            reason = get_str(message, "reason", kind) or ""
            self.close_code = code
            await self._push({"type": kind, "code": code, "reason": reason},
                             0, CLOSED)
            self.ended()
        elif kind == "websocket.accept" and state == CONNECTING:
            subprotocol = get_str(message, "subprotocol", kind)
            headers = get_headers(message, kind)
            for name, _ in headers:
                if name.lower() == b"sec-websocket-protocol":
                    raise ValueError("websocket.accept 'headers' must not set "
                                     "Sec-WebSocket-Protocol: use the "
                                     "'subprotocol' key")
            await self._push({"type": kind, "subprotocol": subprotocol,
                              "headers": headers}, 0, CONNECTED)
        elif kind == "websocket.http.response.start" and state == CONNECTING:
            if "websocket.http.response" not in (
                    self.scope.get("extensions") or ()):
                raise RuntimeError(
                    "websocket.http.response.start: this server did not "
                    "offer the websocket.http.response extension")
            status = get_status(message, kind)
            headers = get_headers(message, kind)
            await self._push({"type": kind, "status": status,
                              "headers": headers}, 0, DENYING)
        elif kind == "websocket.http.response.body" and state == DENYING:
            body = get_bytes(message, "body", kind)
            more = get_bool(message, "more_body", kind)
            await self._push_body(kind, body, more,
                                  DENYING if more else DENIED, DENYING)
            if not more:
                self.close_code = 1006
                self.ended()
        else:
            raise RuntimeError(ws_out_of_order(kind, state))

    async def _send_data(self, message, kind):
        data = message.get("bytes")
        text = message.get("text")
        if (data is None) == (text is None):
            raise TypeError("websocket.send needs exactly one of 'bytes' and "
                            "'text' not None, got %s" % (
                                "both" if data is not None else "neither"))
        if data is not None:
            data = as_bytes(data, "bytes", kind)
            await self._push({"type": kind, "bytes": data}, len(data),
                             CONNECTED)
        else:
            if type(text) is not str:
                text = as_str(text, "text", kind)
            await self._push({"type": kind, "text": text}, text_size(text),
                             CONNECTED)


def ws_out_of_order(kind, state):
    if state == CONNECTING:
        return ("Expected ASGI message 'websocket.accept', 'websocket.close' "
                "or 'websocket.http.response.start', but got '%s'." % kind)
    if state == CONNECTED:
        return ("Expected ASGI message 'websocket.send' or 'websocket.close', "
                "but got '%s'." % kind)
    if state == DENYING:
        return ("Expected ASGI message 'websocket.http.response.body', but "
                "got '%s'." % kind)
    return ("Unexpected ASGI message '%s', after sending 'websocket.close' "
            "or the response." % kind)


def text_size(text):
    """The payload size of a str: its code points, len(text), as Go counts
    them (asgiws.PayloadLen): both sides must agree, or the window drifts."""
    return len(text) if text else 0


# Checks of the values an app passes to send().  Each names the message and
# the key, and turns an allowed subclass (an IntEnum status, a bytearray)
# into the exact type marshal writes.

def message_type(message):
    try:
        kind = message["type"]
    except (TypeError, KeyError, IndexError):
        raise TypeError("an ASGI message must be a dict with a 'type' key, "
                        "not %s" % describe(message)) from None
    if type(kind) is not str:
        raise TypeError("ASGI message 'type' must be a str, not %s"
                        % describe(kind))
    return kind


def get_bytes(message, key, kind):
    value = message.get(key, b"")
    if type(value) is bytes:
        return value
    return as_bytes(value, key, kind)


def as_bytes(value, key, kind):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError("%s %r must be bytes, not %s" % (kind, key,
                                                     describe(value)))


def as_str(value, key, kind):
    if isinstance(value, str):
        return str(value)
    raise TypeError("%s %r must be a str, not %s" % (kind, key,
                                                     describe(value)))


def get_str(message, key, kind, required=False):
    """A str value; None (or missing) is allowed unless required."""
    value = message.get(key)
    if type(value) is str:
        return value
    if value is None and not required:
        return None
    if value is None:
        raise TypeError("%s needs %r, a str" % (kind, key))
    return as_str(value, key, kind)


def get_bool(message, key, kind):
    value = message.get(key, False)
    if value is True or value is False:
        return value
    raise TypeError("%s %r must be a bool, not %s" % (kind, key,
                                                      describe(value)))


def get_int(message, key, kind, default):
    value = message.get(key)
    if value is None:
        return default
    if type(value) is int:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    raise TypeError("%s %r must be an int, not %s" % (kind, key,
                                                      describe(value)))


def get_status(message, kind):
    if message.get("status") is None:
        raise TypeError("%s needs 'status', an int" % kind)
    return get_int(message, "status", kind, None)


def get_headers(message, kind):
    """The headers as a list of (name, value) bytes tuples."""
    raw = message.get("headers")
    if raw is None:
        return []
    if isinstance(raw, (str, bytes, bytearray, dict)):
        raise TypeError("%s 'headers' must be an iterable of [name, value] "
                        "pairs, not %s" % (kind, describe(raw)))
    headers = []
    append = headers.append
    try:
        for pair in raw:
            name, value = pair
            if type(name) is not bytes or type(value) is not bytes:
                name = as_bytes(name, "header name", kind)
                value = as_bytes(value, "header value", kind)
            append((name, value))
    except (TypeError, ValueError) as e:
        if isinstance(e, TypeError) and str(e).startswith(kind):
            raise
        raise TypeError("%s 'headers' must be an iterable of [name, value] "
                        "byte string pairs, not %s" % (kind, describe(raw))
                        ) from None
    return headers


def describe(value):
    """A short description of a wrong value: its type and a bounded repr."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return "%s %s" % (type(value).__name__, text)
