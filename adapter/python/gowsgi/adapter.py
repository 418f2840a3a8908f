"""Serve a Go http.Handler as a WSGI application (PEP 3333).

The handler is built into a C shared library with the Go package
github.com/gowsgi/gowsgi/adapter (see its documentation and ADAPTER.md)::

    go build -buildmode=c-shared -o app.so ./myhandler

and served by any WSGI server::

    import gowsgi
    application = gowsgi.load("./app.so")

This module (the package re-exports its API) uses only the standard
library (ctypes).  The Go handler runs on its own goroutine; each call into
the library returns the next thing the handler needs from Python (request
body, a line for wsgi.errors) or has for it (the status and headers, a
chunk of body).  ctypes releases the GIL around every call, so handlers run
in parallel under threaded servers.
"""

import ctypes
import os
import signal
import threading

__all__ = ['load', 'Application', 'Error']

# Must match gowsgi.h and gowsgiABI in the adapter package.
_ABI = 1
_READ, _LOG, _OUTPUT, _ABORT, _ERROR = 1, 2, 3, 4, 5
_REPLY_DATA, _REPLY_ERROR = 1, 2

# The signals of the host server.  The Go runtime leaves their handlers
# alone, but Go's threads would still receive them; see _open.
_HOST_SIGNALS = {getattr(signal, name) for name in (
    'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR1', 'SIGUSR2',
    'SIGALRM', 'SIGCHLD', 'SIGTTIN', 'SIGTTOU', 'SIGWINCH', 'SIGTSTP',
) if hasattr(signal, name)}

_FORK_FIX = (
    "load it after the fork: don't call Application.library() or "
    "load(..., lazy=False) at import time, or let the server import the "
    "application in each worker (gunicorn without --preload, uWSGI with "
    "--lazy-apps)")


class Error(RuntimeError):
    """A Go library that cannot serve, or a response that it aborted."""


class _Event(ctypes.Structure):
    # gowsgi_event in gowsgi.h.
    _fields_ = [
        ('kind', ctypes.c_int32),
        ('done', ctypes.c_int32),
        ('want', ctypes.c_int64),
        ('data', ctypes.c_void_p),
        ('head_len', ctypes.c_int64),
        ('body_len', ctypes.c_int64),
    ]


# The Go runtime of this process, as (pid, path, library), or None.  It is
# module state because the runtime is process state: a process can hold
# only one, and a forked child inherits the parent's, unusable.
_runtime = None
_runtime_lock = threading.Lock()


def load(path, lazy=True):
    """Return the WSGI application served by the Go library at path.

    The library is loaded on the first request, in the process that serves
    it: a Go runtime does not survive fork(), and servers fork workers after
    importing the application.  With lazy=False it is loaded now, which
    reports a bad library early but makes the application unusable in
    processes forked from this one.
    """
    app = Application(path)
    if not lazy:
        app.library()
    return app


class Application:
    """A WSGI application that runs the handler of a Go shared library."""

    def __init__(self, path):
        # Resolve now: the server may change directory before serving.
        self.path = os.path.realpath(path)
        self._lib = None
        self._pid = None

    def __call__(self, environ, start_response):
        lib = self._lib
        if lib is None or self._pid != os.getpid():
            lib = self.library()
        return _Response(lib, environ).start(start_response)

    def library(self):
        """Load the library into this process if needed, and return it."""
        global _runtime
        with _runtime_lock:
            if _runtime is None:
                _runtime = (os.getpid(), self.path, _open(self.path))
            pid, path, lib = _runtime
        if pid != os.getpid():
            raise Error(
                'gowsgi: %s was loaded in process %d, which then forked this '
                'process (%d); a Go runtime does not survive fork(), so it '
                'cannot serve here.  Fix: %s'
                % (path, pid, os.getpid(), _FORK_FIX))
        if path != self.path:
            raise Error(
                'gowsgi: cannot load %s: this process already runs the Go '
                'runtime of %s, and a process can hold only one.  Build all '
                'Go handlers into one library (one http.ServeMux)'
                % (self.path, path))
        self._lib, self._pid = lib, pid
        return lib


def _open(path):
    # Go's threads keep the signal mask of the thread that starts the
    # runtime.  Blocking the host's signals while it starts keeps them off
    # Go's threads for good, so they reach the server's own threads.
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _HOST_SIGNALS)
    try:
        # CDLL, not PyDLL: it releases the GIL around every call, so that
        # other Python threads run while a Go handler works or waits.
        lib = ctypes.CDLL(path)
    except OSError as e:
        raise Error('gowsgi: cannot load %s: %s' % (path, e)) from None
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    if not hasattr(lib, 'gowsgi_abi'):
        raise Error('gowsgi: %s was not built with the gowsgi adapter '
                    '(github.com/gowsgi/gowsgi/adapter)' % path)
    abi = lib.gowsgi_abi()
    if abi == 0:
        raise Error('gowsgi: %s exports no handler: call adapter.Export from '
                    'an init function of its package main' % path)
    if abi != _ABI:
        raise Error('gowsgi: %s speaks ABI %d, this gowsgi package speaks %d: '
                    'use the gowsgi package of the same release'
                    % (path, abi, _ABI))
    event = ctypes.POINTER(_Event)
    size = ctypes.c_size_t
    lib.gowsgi_serve.argtypes = [ctypes.c_char_p, ctypes.c_int64, event]
    lib.gowsgi_serve.restype = size
    lib.gowsgi_next.argtypes = [
        size, ctypes.c_int, ctypes.c_char_p, ctypes.c_int64, event]
    lib.gowsgi_next.restype = ctypes.c_int
    lib.gowsgi_close.argtypes = [size]
    lib.gowsgi_close.restype = None
    lib.gowsgi_free.argtypes = [ctypes.c_void_p]
    lib.gowsgi_free.restype = None
    return lib


def _environ_bytes(environ):
    """Encode the str variables of environ as b'KEY\\0VALUE\\0...'."""
    items = [k + '\0' + v for k, v in environ.items() if type(v) is str]
    if environ.get('wsgi.input_terminated'):
        items.append('wsgi.input_terminated\0True')
    text = '\0'.join(items)
    if text.count('\0') != 2 * len(items) - 1:
        return None  # a NUL inside a value, as a path with %00 can carry
    # PEP 3333 strings hold one byte per character.
    return text.encode('latin-1')


def _parse_head(head):
    lines = head.decode('latin-1').split('\n')
    headers = [tuple(line.split(': ', 1)) for line in lines[1:] if line]
    return lines[0], headers


class _Response:
    """The iterable of one request, which drives its Go handler."""

    def __init__(self, lib, environ):
        self._lib = lib
        self._environ = environ
        self._event = _Event()
        self._handle = 0  # nonzero while the handler may send more
        self._first = b''  # body that came with the head

    def start(self, start_response):
        blob = _environ_bytes(self._environ)
        if blob is None:
            start_response('400 Bad Request',
                           [('Content-Type', 'text/plain')])
            return [b'NUL character in the request\n']
        self._handle = self._lib.gowsgi_serve(
            blob, len(blob), ctypes.byref(self._event))
        try:
            head, self._first = self._step()
            start_response(*_parse_head(head))
        except BaseException:
            self.close()
            raise
        return self

    def __iter__(self):
        return self

    def __next__(self):
        chunk, self._first = self._first, b''
        # Skip empty chunks: a server must not send the head before the
        # first non-empty one anyway.
        while not chunk and self._handle:
            self._call()
            chunk = self._step()[1]
        if chunk:
            return chunk
        raise StopIteration

    def close(self):
        # Called by the server when it is done, early if the client went
        # away: that cancels the handler's context.
        handle, self._handle = self._handle, 0
        if handle:
            self._lib.gowsgi_close(handle)

    def _call(self, reply=0, data=None):
        self._lib.gowsgi_next(self._handle, reply, data,
                              len(data) if data else 0,
                              ctypes.byref(self._event))

    def _step(self):
        """Serve the handler's events up to its next output.

        Returns the head (b'' once sent) and a chunk of body.
        """
        ev = self._event
        while True:
            if ev.done:
                self._handle = 0
            kind = ev.kind
            if kind == _READ:
                self._call(*self._read(ev.want))
                continue
            head, body = self._take(ev)
            if kind == _OUTPUT:
                return head, body
            if kind == _LOG:
                self._log(body)
                self._call()
                continue
            if kind == _ABORT:
                raise Error('gowsgi: the Go handler failed after sending '
                            'the head; see the log')
            raise Error(body.decode('utf-8', 'replace'))

    def _take(self, ev):
        # Copy the event's C memory into bytes, and free it.
        if not ev.data:
            return b'', b''
        try:
            head = b''
            if ev.head_len:
                head = ctypes.string_at(ev.data, ev.head_len)
            body = ctypes.string_at(ev.data + ev.head_len, ev.body_len)
        finally:
            self._lib.gowsgi_free(ev.data)
        return head, body

    def _read(self, want):
        try:
            return _REPLY_DATA, self._environ['wsgi.input'].read(want)
        except Exception as e:
            # The handler's Read returns this error, and decides.
            return _REPLY_ERROR, repr(e).encode('utf-8', 'replace')

    def _log(self, message):
        errors = self._environ['wsgi.errors']
        errors.write(message.decode('utf-8', 'replace'))
        errors.flush()
