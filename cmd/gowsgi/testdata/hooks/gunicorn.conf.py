"""A gunicorn config file that defines every server hook gowsgi runs.

For the tests of cmd/gowsgi (hooks_test.go): each hook appends a JSON line
to $HOOKS_LOG saying what it saw, and then, if $HOOKS_RAISE is 1, raises;
but pre_request, which raises for the path /refuse only. If $HOOKS_READY_GATE
names a FIFO, when_ready first reads it to its end: the test holds the hook
until it closes its end.
"""

import json
import os
import sys

MARKS = os.environ.get("HOOKS_LOG", os.devnull)
RAISE = os.environ.get("HOOKS_RAISE") == "1"
SOCKET = os.environ.get("HOOKS_SOCKET", "")
READY_GATE = os.environ.get("HOOKS_READY_GATE", "")


def mark(hook, may_raise=True, **seen):
    seen.update(hook=hook, in_pid=os.getpid())
    with open(MARKS, "a") as f:
        f.write(json.dumps(seen) + "\n")
    if RAISE and may_raise:
        raise RuntimeError("%s raised on purpose" % hook)


def app_imported():
    return "hooksapp" in sys.modules


def on_starting(server):
    server.log.info("on_starting ran")
    mark("on_starting", server_pid=server.pid, workers=server.num_workers,
         bound=os.path.exists(SOCKET))


def nworkers_changed(server, new_value, old_value):
    mark("nworkers_changed", new=new_value, old=old_value)


def when_ready(server):
    if READY_GATE:
        with open(READY_GATE) as gate:
            gate.read()
    mark("when_ready", server_pid=server.pid, workers=server.num_workers,
         bound=os.path.exists(SOCKET))


def on_reload(server):
    mark("on_reload", server_pid=server.pid)


def on_exit(server):
    mark("on_exit", server_pid=server.pid)


def child_exit(server, worker):
    mark("child_exit", pid=worker.pid, age=worker.age, exit=worker.exit,
         alive=worker.alive)


def post_fork(server, worker):
    mark("post_fork", pid=worker.pid, age=worker.age, ppid=os.getppid(),
         server_pid=server.pid, app_imported=app_imported())


def post_worker_init(worker):
    worker.log.warning("post_worker_init of worker %s", worker.pid)
    mark("post_worker_init", pid=worker.pid, age=worker.age,
         alive=worker.alive, app_imported=app_imported())


def pre_request(worker, req):
    mark("pre_request", may_raise=False, pid=worker.pid, method=req.method,
         path=req.path, query=req.query, headers=req.headers)
    if req.path == "/refuse":
        raise RuntimeError("pre_request refused %s on purpose" % req.path)


def post_request(worker, req, environ, resp):
    mark("post_request", pid=worker.pid, path=req.path,
         path_info=environ.get("PATH_INFO"),
         status=resp.status if resp else None,
         headers=resp.headers if resp else None)


def worker_exit(server, worker):
    mark("worker_exit", pid=worker.pid, alive=worker.alive)


def worker_abort(worker):
    mark("worker_abort", pid=worker.pid, alive=worker.alive)
