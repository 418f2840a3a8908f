"""gunicorn's server hooks, read from a gunicorn.conf.py.

The file runs as gunicorn runs it, and the hooks it defines are called with
objects that carry what gunicorn's hooks use of its own: a worker's pid,
age, log and alive flag, a request's method, path, query and headers, a
response's status and headers.  The worker hooks run in each worker
(WorkerHooks); the master hooks in gowsgi's hooks helper (master.py).

A hook that raises is logged with its traceback, and the server and the
worker go on; only pre_request's error is the request's, which then gets
500 without reaching the app, as under gunicorn.
"""

import importlib
import importlib.machinery
import importlib.util
import logging
import os
import signal
import sys
import types
from urllib.parse import urlsplit

from .handler import run

WORKER_HOOKS = ("post_fork", "post_worker_init", "pre_request",
                "post_request", "worker_exit", "worker_abort")
MASTER_HOOKS = ("on_starting", "when_ready", "on_reload", "on_exit",
                "child_exit", "nworkers_changed")
LOGGER = "gunicorn.error"


def read_config(path):
    """Run the config file as gunicorn does; return its namespace.
    "python:MODULE" names a module to import instead, as gunicorn's -c."""
    if path.startswith("python:"):
        return vars(importlib.import_module(path[len("python:"):]))
    name = "__config__"
    spec = importlib.util.spec_from_file_location(
        name, path, loader=importlib.machinery.SourceFileLoader(name, path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return vars(module)


def resolve(value):
    """A hook, given as a callable or, as gunicorn allows, as the dotted
    path of one ("myapp.hooks.post_fork")."""
    if callable(value):
        return value
    if isinstance(value, str) and "." in value:
        module, _, attr = value.rpartition(".")
        return getattr(importlib.import_module(module), attr)
    raise TypeError("a hook must be callable or a dotted path, not %r"
                    % (value,))


def settings(namespace):
    """The file's settings, as server.cfg and worker.cfg: its public
    names but modules, functions and classes."""
    skip = (types.ModuleType, types.FunctionType, type)
    return types.SimpleNamespace(**{
        k: v for k, v in namespace.items()
        if not k.startswith("_") and not isinstance(v, skip)})


def make_log(cfg):
    """gunicorn's error logger: lines on stderr as "LEVEL:name:message",
    the form from which Go's log takes their level, a traceback after
    its line.  It does not propagate, so the app's logging setup and
    this one leave each other alone."""
    log = logging.getLogger(LOGGER)
    if not any(getattr(h, "gowsgi", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.gowsgi = True
        handler.setFormatter(logging.Formatter(
            "%(levelname)s:%(name)s:%(message)s"))
        log.addHandler(handler)
    log.propagate = False
    level = str(getattr(cfg, "loglevel", "info")).upper()
    log.setLevel(getattr(logging, level, logging.INFO))
    return log


class Hooks:
    """The hooks a config file defines, and their calling."""

    def __init__(self, path, names):
        self.path = path
        namespace = read_config(path)
        self.cfg = settings(namespace)
        self.log = make_log(self.cfg)
        self.fns = {n: resolve(namespace[n]) for n in names
                    if namespace.get(n) is not None}

    def call(self, name, *args):
        """Call hook name if defined, logging whatever it raises."""
        fn = self.fns.get(name)
        if fn is None:
            return
        try:
            fn(*args)
        except Exception:
            self.log.exception("Exception in %s hook (%s)", name, self.path)


class Server:
    """What gunicorn's hooks use of its Arbiter: the server's pid, its
    log, its settings; in the master hooks, the number of workers."""

    def __init__(self, pid, log, cfg):
        self.pid = pid
        self.log = log
        self.cfg = cfg
        self.num_workers = getattr(cfg, "workers", None)


class Worker:
    """What gunicorn's hooks use of its Worker.  age numbers the workers
    in the order they were started, from 1, as gunicorn's does."""

    def __init__(self, pid, age, ppid, log, cfg):
        self.pid = pid
        self.age = age
        self.ppid = ppid
        self.log = log
        self.cfg = cfg
        self.alive = True
        self.booted = False
        self.aborted = False

    def __str__(self):
        return "<Worker %s>" % self.pid


class Request:
    """What gunicorn's hooks use of its Request, read from the environ
    Go built.  headers are (NAME, value) pairs, the names in capitals, as
    gunicorn gives them."""

    def __init__(self, environ):
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "")
        self.uri = environ.get("RAW_URI") or environ.get("REQUEST_URI", "")
        # As on the wire, percent-escapes kept; an absolute-form target
        # ("http://host/path") gives its path, as gunicorn's.
        if self.uri.startswith("/"):
            self.path = self.uri.partition("?")[0]
        else:
            self.path = urlsplit(self.uri).path
        self.query = environ.get("QUERY_STRING", "")
        self.fragment = ""
        self.scheme = environ.get("wsgi.url_scheme", "http")
        self.version = http_version(environ.get("SERVER_PROTOCOL", ""))
        self.remote_addr = environ.get("REMOTE_ADDR", "")
        port = environ.get("REMOTE_PORT", "")
        self.peer_addr = (self.remote_addr,
                          int(port) if port.isdigit() else port)
        self.body = environ.get("wsgi.input")

    @property
    def headers(self):
        return [(header_name(k), v) for k, v in self.environ.items()
                if k.startswith("HTTP_")
                or k in ("CONTENT_TYPE", "CONTENT_LENGTH")]


def header_name(key):
    if key.startswith("HTTP_"):
        key = key[5:]
    return key.replace("_", "-")


def http_version(protocol):
    try:
        major, minor = protocol.partition("/")[2].split(".")
        return int(major), int(minor)
    except ValueError:
        return (1, 1)


class Response:
    """What gunicorn's post_request hooks use of its Response: what the
    app gave start_response."""

    def __init__(self):
        self.status = None
        self.headers = []

    @property
    def status_code(self):
        try:
            return int(self.status.split(None, 1)[0])
        except (AttributeError, ValueError, IndexError):
            return None


class PreRequestError(Exception):
    """The pre_request hook raised: the request is not served."""


class WorkerHooks:
    """The worker hooks of a config file, in one worker process."""

    def __init__(self, path):
        self.hooks = Hooks(path, WORKER_HOOKS)
        self.defined = sorted(self.hooks.fns)
        self.server = None
        self.worker = None

    def started(self, age, server_pid):
        """The worker runs: post_fork, and worker_abort's handler."""
        log, cfg = self.hooks.log, self.hooks.cfg
        self.server = Server(server_pid, log, cfg)
        self.worker = Worker(os.getpid(), age, server_pid, log, cfg)
        if "worker_abort" in self.hooks.fns:
            # Go sends SIGABRT, as gunicorn's arbiter does, to a worker
            # that timed out (after SIGUSR1's stack dump) and kills it
            # after a grace period; the handler runs in the main thread,
            # which only waits for the serving threads.
            signal.signal(signal.SIGABRT, self.abort)
        self.hooks.call("post_fork", self.server, self.worker)

    def ready(self):
        """The app is imported."""
        self.worker.booted = True
        self.hooks.call("post_worker_init", self.worker)

    def exiting(self):
        self.worker.alive = False
        self.hooks.call("worker_exit", self.server, self.worker)

    def abort(self, signum, frame):
        self.worker.alive = False
        self.worker.aborted = True
        self.hooks.call("worker_abort", self.worker)
        sys.stdout.flush()
        sys.stderr.flush()
        sys.exit(1)

    def runner(self, app):
        """What serves each request: handler.run itself unless the file
        defines pre_request or post_request, so that no request pays for
        hooks it does not have."""
        fns = self.hooks.fns
        if "pre_request" not in fns and "post_request" not in fns:
            return run
        return RequestHooks(self.hooks, self.worker, app).run


class RequestHooks:
    """pre_request and post_request around each request."""

    def __init__(self, hooks, worker, app):
        self.hooks = hooks
        self.worker = worker
        self.app = app
        self.pre = hooks.fns.get("pre_request")

    def run(self, _app, environ, chan):
        req = Request(environ)
        resp = Response()
        served = []

        def app(environ, start_response):
            self.pre_request(req)
            served.append(True)

            def start(status, headers, exc_info=None):
                resp.status, resp.headers = status, headers
                return start_response(status, headers, exc_info)
            return self.app(environ, start)

        run(app, environ, chan)
        # After the response, as gunicorn; with no response if
        # pre_request refused the request.
        self.hooks.call("post_request", self.worker, req, environ,
                        resp if served else None)

    def pre_request(self, req):
        if self.pre is None:
            return
        try:
            self.pre(self.worker, req)
        except Exception as e:
            # Raised in the app's place: Go logs the traceback and
            # answers 500, as gunicorn does.
            raise PreRequestError(
                "the pre_request hook of %s raised: the request is not "
                "served" % self.hooks.path) from e


class NoHooks:
    """A worker without a config file: nothing to call."""

    defined = []

    def started(self, age, server_pid):
        pass

    def ready(self):
        pass

    def exiting(self):
        pass

    def runner(self, app):
        return run
