"""Serve one request: call the application, turn its response into frames.

This is the per-request path, so it stays a handful of C-level calls for
the common cases: Go has already built every environ string, and a response
given as a list goes out, with its End frame, in one sendmsg.
"""

import marshal
import os
import stat
import traceback
from time import monotonic

from .channel import DATA, END, ERROR, FILE, START, Aborted, header
from .filewrapper import FileWrapper

_END = header(END, 0)
# How often, at most, a streaming response looks for an Abort from Go.
ABORT_CHECK = 0.02


class Exchange:
    """The state of one response: what start_response was given, and
    whether its Start frame has gone out."""

    __slots__ = ("chan", "status", "headers", "started", "aborted",
                 "checked")

    def __init__(self, chan):
        self.chan = chan
        self.status = None
        self.headers = None
        self.started = False
        self.aborted = False
        self.checked = 0.0  # when check_abort last looked

    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.started:
                    # Too late to replace the headers: let the error
                    # propagate, and Go aborts the connection.
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # break the cycle through the frame
        elif self.status is not None:
            raise AssertionError(
                "start_response() called a second time without exc_info "
                "(PEP 3333)")
        self.status = status
        self.headers = headers
        return self.write

    def start_frame(self):
        if self.status is None:
            raise AssertionError(
                "the application produced a body before calling "
                "start_response() (PEP 3333)")
        try:
            meta = marshal.dumps((self.status, self.headers))
        except ValueError:
            raise TypeError(describe_bad_start(self.status, self.headers))
        if len(meta) > self.chan.max_meta:
            # Sent, it would cost the whole worker; refused, it is this
            # request's error, reported as any other.
            raise ValueError(
                "start_response(): response headers of %d bytes (status "
                "line included) exceed the %d-byte limit"
                % (len(meta), self.chan.max_meta))
        self.started = True
        return header(START, len(meta)) + meta

    def write(self, data):
        """The write() callable of PEP 3333: data is sent before it returns."""
        if type(data) is not bytes:
            raise TypeError(not_bytes("write()", data))
        if data:
            self.send_data(data)

    def send_data(self, data):
        if self.started:
            self.check_abort()
            self.chan.send_data(data)
        else:
            self.chan.send([self.start_frame(), header(DATA, len(data)), data])

    def check_abort(self):
        # Looking for Abort costs a system call: a stream of small chunks
        # looks at most every ABORT_CHECK seconds.
        if not self.aborted:
            now = monotonic()
            if now - self.checked < ABORT_CHECK:
                return
            self.checked = now
            try:
                self.chan.check_abort()
            except Aborted:
                self.aborted = True
        if self.aborted:
            raise Aborted()

    def declared_length(self):
        """The Content-Length the app declared, or -1."""
        try:
            for name, value in self.headers:
                if len(name) == 14 and name.lower() == "content-length":
                    return int(value)
        except Exception:
            pass  # start_frame() will report what is wrong with them
        return -1


def run(app, environ, chan):
    """Call app for environ and send its response on chan."""
    ex = Exchange(chan)
    result = None
    held = []
    error = None
    try:
        result = app(environ, ex.start_response)
        held = respond(ex, result)
    except Aborted:
        pass
    except BaseException:
        error = traceback.format_exc()
    # PEP 3333: close() is called however the response ended.
    close = getattr(result, "close", None)
    if close is not None:
        try:
            close()
        except BaseException:
            error = error or traceback.format_exc()
    if error is None and not ex.started:
        try:
            held.insert(0, ex.start_frame())
        except BaseException:
            error = traceback.format_exc()
    if error is not None:
        chan.send_text(ERROR, error)
    else:
        held.append(_END)
        chan.send(held)


def respond(ex, result):
    """Send the body of result; return the frames held back for End."""
    kind = type(result)
    if kind is list or kind is tuple:
        return respond_sequence(ex, result)
    if kind is FileWrapper and send_file(ex, result):
        return []
    left = None  # what the app's Content-Length still allows; -1: none
    for data in result:
        if type(data) is not bytes:
            raise TypeError(not_bytes("the response iterable", data))
        if not data:
            continue
        if left is None:
            left = ex.declared_length()
        if not ex.started and left == len(data):
            # Nothing more can follow: one write with End instead of two.
            return [ex.start_frame(), header(DATA, len(data)), data]
        ex.send_data(data)
        if left >= 0:
            left -= len(data)
            if left <= 0:
                # PEP 3333: stop iterating once enough data has been sent
                # (an endless generator behind a Content-Length ends here).
                # Go drops any excess, and says so.
                break
    return []


def respond_sequence(ex, result):
    """A list or tuple is all in memory already: hold it all for End."""
    parts = []
    for data in result:
        if type(data) is not bytes:
            raise TypeError(not_bytes("the response iterable", data))
        if data:
            parts += (header(DATA, len(data)), data)
    if parts and not ex.started:
        parts.insert(0, ex.start_frame())
    return parts


def send_file(ex, wrapper):
    """Hand a real file to Go, which sends it with sendfile(2).

    The descriptor goes along with the File frame (SCM_RIGHTS), so Go holds
    the file from then on: nothing waits for an answer, and the app may
    close the file at once.  Go sends from the offset given here and never
    moves the position the descriptor shares with filelike.  Returns False
    when the file must be read here instead.
    """
    filelike = wrapper.filelike
    try:
        fd = filelike.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        offset = filelike.tell()
    except (AttributeError, OSError, ValueError):
        return False
    meta = marshal.dumps(offset)
    parts = [header(FILE, len(meta)), meta]
    if not ex.started:
        parts.insert(0, ex.start_frame())
    ex.chan.send_file(parts, fd)
    return True


def not_bytes(where, data):
    text = repr(data)
    if len(text) > 40:
        text = text[:37] + "..."
    return "PEP 3333 needs bytes: %s gave %s %s" % (
        where, type(data).__name__, text)


def describe_bad_start(status, headers):
    """Say which part of start_response's arguments is not a native str."""
    if type(status) is not str:
        return "start_response(): status must be str (PEP 3333), not %s" % (
            type(status).__name__)
    if type(headers) is not list:
        return "start_response(): headers must be a list (PEP 3333), not %s" % (
            type(headers).__name__)
    for item in headers:
        if type(item) is not tuple or len(item) != 2:
            return ("start_response(): each header must be a (name, value) "
                    "tuple (PEP 3333), not %r" % (item,))
        for part in item:
            if type(part) is not str:
                return ("start_response(): header %r has a %s where PEP 3333 "
                        "needs str" % (item, type(part).__name__))
    return "start_response(): status and headers must be str (PEP 3333)"
