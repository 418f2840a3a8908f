"""A worker process: import the application, then serve requests from Go.

Go starts the interpreter with the runtime's directory on sys.path and
hands it one Unix socket per thread, as file descriptors 3, 4, ...  Nothing
the application prints can reach those sockets: stdout and stderr are pipes
that Go logs, tagged with this worker's id.  An ASGI worker (the interface
argument "asgi") has one socket and serves it from an event loop (asgi.py).
"""

import faulthandler
import marshal
import os
import platform
import signal
import socket
import sys
import threading
import traceback
from io import BytesIO

from . import hooks, loader
from .channel import LOAD_ERROR, READY, REQUEST, Channel
from .filewrapper import FileWrapper
from .handler import run

FIRST_FD = 3
# Distinct exit status for "the application failed to import", so that the
# supervisor stops instead of restarting the worker in a loop.
LOAD_ERROR_STATUS = 4
# The runtime failed in a thread (serve): EX_SOFTWARE.
RUNTIME_ERROR_STATUS = 70


def main(argv):
    spec, threads, pythonpath, max_meta, config, age = argv[:6]
    interface = interface_of(argv[6:])
    setup(spec, pythonpath)
    if interface == "asgi":
        chan = open_channel(FIRST_FD, int(max_meta))
        worker_hooks = hooks_or_exit(config, chan)
        worker_hooks.started(int(age), os.getppid())
        app = load_or_exit(spec, chan, interface)
        serve_asgi(app, chan, worker_hooks)
        return
    channels = [open_channel(FIRST_FD + i, int(max_meta))
                for i in range(int(threads))]
    worker_hooks = hooks_or_exit(config, channels[0])
    worker_hooks.started(int(age), os.getppid())
    app = load_or_exit(spec, channels[0])
    serve_app(app, channels, worker_hooks)


def serve_app(app, channels, worker_hooks):
    """Serve app, with the hooks of gunicorn's that a worker runs."""
    worker_hooks.ready()
    channels[0].send_meta(READY, ready_info(app, worker_hooks))
    try:
        serve_all(app, channels, worker_hooks.runner(app))
    finally:
        worker_hooks.exiting()


def serve_asgi(app, chan, worker_hooks):
    """Serve an ASGI app on its one channel, with the worker hooks of
    gunicorn's that apply to it (post_worker_init, worker_exit; the
    per-request ones are WSGI's)."""
    # Here, not at the top: a WSGI worker need not import asyncio.
    from . import asgi
    worker_hooks.ready()
    try:
        asgi.serve(app, chan, ready_info(app, worker_hooks))
    finally:
        worker_hooks.exiting()


def interface_of(rest):
    """The interface argument: "wsgi" (the default, when absent) or
    "asgi"."""
    interface = rest[0] if rest else "wsgi"
    if interface not in ("wsgi", "asgi"):
        raise ValueError("interface %r: want 'wsgi' or 'asgi'" % interface)
    return interface


def setup(spec, pythonpath):
    """Prepare the interpreter before the app is imported."""
    # A crash in C code (a segfault in an extension) then leaves the Python
    # stack of every thread in the log, tagged with this worker's id.
    faulthandler.enable(all_threads=True)
    # Go asks for the stacks of a worker that hangs before it kills it.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    sys.argv = [spec]
    for path in reversed([p for p in pythonpath.split(os.pathsep) if p]):
        sys.path.insert(0, path)


def load_or_exit(spec, chan, interface="wsgi"):
    """Import the app, or report the traceback on chan and exit."""
    try:
        return loader.load(spec, interface)
    except BaseException:
        chan.send_text(LOAD_ERROR, traceback.format_exc())
        os._exit(LOAD_ERROR_STATUS)


def hooks_or_exit(config, chan):
    """The worker hooks of the config file (none if config is ""), or
    the file's traceback on chan and exit, as an app that fails to
    import: a worker started again would fail the same way."""
    if not config:
        return hooks.NoHooks()
    try:
        return hooks.WorkerHooks(config)
    except BaseException:
        chan.send_text(LOAD_ERROR, "the config file %s failed:\n%s" % (
            config, traceback.format_exc()))
        os._exit(LOAD_ERROR_STATUS)


def ready_info(app, worker_hooks=None):
    """The payload of the Ready frame: who serves, with what."""
    # An ASGI worker runs no gunicorn worker hooks (they are WSGI's).
    defined = worker_hooks.defined if worker_hooks else []
    return {
        "pid": os.getpid(),
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "app": describe(app),
        "hooks": defined,
    }


def serve_all(app, channels, run=run):
    """Serve on every channel, one thread each, until Go closes them;
    run serves each request (handler.run, or hooks' around it)."""
    base = base_environ(len(channels))
    workers = [threading.Thread(target=serve, args=(c, app, base, run),
                                name="gowsgi-%d" % i, daemon=True)
               for i, c in enumerate(channels)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


def base_environ(threads):
    """The environ keys that are the same for every request of a worker."""
    # Go sends wsgi.multiprocess with each request: it changes as workers
    # are added and removed.
    return {
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": threads > 1,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "wsgi.file_wrapper": FileWrapper,
    }


def describe(app):
    """Name what the spec gave: 'flask.app.Flask', 'hello.simple_app'."""
    module = getattr(app, "__module__", None) or type(app).__module__
    name = getattr(app, "__qualname__", None) or type(app).__qualname__
    return "%s.%s" % (module, name)


def open_channel(fd, max_meta):
    # Children the application starts must not inherit the channel.
    os.set_inheritable(fd, False)
    return Channel(socket.socket(fileno=fd), max_meta)


def serve(chan, app, base, run=run):
    """Serve requests until Go closes the channel."""
    loads = marshal.loads
    try:
        while True:
            kind, payload = chan.read_frame()
            if kind != REQUEST:
                continue  # an Abort that came after its exchange ended
            environ, body = loads(payload)
            environ.update(base)
            if type(body) is bytes:
                environ["wsgi.input"] = BytesIO(body)
                run(app, environ, chan)
            else:
                # Go spooled a large body to this file.
                with open(body, "rb") as f:
                    environ["wsgi.input"] = f
                    run(app, environ, chan)
    except (EOFError, ConnectionError):
        pass
    except BaseException:
        # The runtime itself failed (say EMFILE opening a spooled body; the
        # app's errors are its responses'). With this thread gone, its
        # request would wait for Go's timeout while the other threads serve
        # on: the worker exits instead, as it does when its only thread
        # dies, so that Go answers 502 at once and replaces it.
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(RUNTIME_ERROR_STATUS)
