"""The hooks helper: runs gunicorn's master hooks for the Go server.

gunicorn runs on_starting, when_ready, on_reload, on_exit, child_exit and
nworkers_changed in its master process; gowsgi's master is Go, so this one
Python process, started once, reads the config file once and runs a hook
whenever Go says so.  Go and it speak JSON lines on file descriptor 3:

    Go:     {"id": 1, "hook": "child_exit", "server": {...}, "worker": {...}}
    helper: {"id": 1}                       once the hook has returned

"server" updates the server object's attributes (num_workers, ...);
"worker", for child_exit, describes the worker that exited; "args" are
the hook's other arguments (nworkers_changed's new and old values).  The
first line the helper writes says it is ready, with the master hooks the
file defines, or why it cannot be: {"ready": [...]} or {"error": "..."}.
What the hooks print, and the log, go to stdout and stderr, which Go logs.
"""

import json
import os
import socket
import sys
import traceback

from . import hooks

CONTROL_FD = 3


def main(argv):
    config, pythonpath = argv
    for path in reversed([p for p in pythonpath.split(os.pathsep) if p]):
        sys.path.insert(0, path)
    sock = socket.socket(fileno=CONTROL_FD)
    r, w = sock.makefile("r", encoding="utf-8"), sock.makefile("w")
    try:
        master = hooks.Hooks(config, hooks.MASTER_HOOKS)
    except BaseException:
        send(w, {"error": "the config file %s failed:\n%s" % (
            config, traceback.format_exc())})
        return 1
    server = hooks.Server(os.getppid(), master.log, master.cfg)
    send(w, {"ready": sorted(master.fns)})
    for line in r:
        command = json.loads(line)
        master.call(command["hook"], *arguments(server, command))
        sys.stdout.flush()
        sys.stderr.flush()
        send(w, {"id": command["id"]})
    return 0


def arguments(server, command):
    """The hook's arguments: the server, then what its command gives."""
    for k, v in command.get("server", {}).items():
        setattr(server, k, v)
    args = [server]
    worker = command.get("worker")
    if worker is not None:
        args.append(exited_worker(server, worker))
    return args + command.get("args", [])


def exited_worker(server, info):
    """The worker of child_exit: one that has ended."""
    w = hooks.Worker(info["pid"], info["age"], server.pid, server.log,
                     server.cfg)
    w.alive = False
    w.exit = info.get("exit", "")
    return w


def send(w, msg):
    w.write(json.dumps(msg) + "\n")
    w.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
