"""The zygote of --preload: import the application once, then fork workers.

Go starts it like a worker but with one socket, the control socket, as file
descriptor 3.  After the import (Ready or LoadError on that socket, as a
worker does) it waits for Fork frames.  Each carries, by SCM_RIGHTS, the new
worker's channel sockets and its stdout and stderr pipes; the zygote forks,
and the child puts them in place (3, 4, ... and 1, 2) and serves exactly as
a worker that imported the app itself, while the pages of the app's modules
stay shared, copy-on-write.  The zygote answers Forked (the child's pid) and
later Reaped (pid, wait status) once it has waited for that child: only the
parent can, and Go needs to know how its worker ended.  A Fork frame's
payload is the new worker's age (marshal), which its hooks see.  For an
ASGI app (the interface argument "asgi") the child makes its event loop
and runs lifespan startup itself, after the fork, before its Ready: a
loop, its selector and the app's lifespan state belong to one process.
"""

import array
import fcntl
import gc
import marshal
import os
import random
import select
import signal
import socket
import sys
import traceback

from .channel import FORK, FORKED, HEADER, READY, REAPED
from .worker import (FIRST_FD, hooks_or_exit, interface_of, load_or_exit,
                     open_channel, ready_info, serve_app, serve_asgi, setup)

# Linux passes at most SCM_MAX_FD (253) descriptors in one message.
MAX_FDS = 253
_FD_SPACE = socket.CMSG_LEN(MAX_FDS * array.array("i").itemsize)


def main(argv):
    spec, pythonpath, max_meta, config = argv[:4]
    interface = interface_of(argv[4:])
    max_meta = int(max_meta)
    setup(spec, pythonpath)
    control = open_channel(FIRST_FD, max_meta)
    # As gunicorn's master with --preload: the config file, then the app;
    # the worker hooks run in each child.
    worker_hooks = hooks_or_exit(config, control)
    server_pid = os.getppid()
    app = load_or_exit(spec, control, interface)
    control.send_meta(READY, ready_info(app, worker_hooks))
    if interface == "asgi":
        # Imported once here, shared by the children, which use it.
        from . import asgi  # noqa: F401
    freeze()
    child = serve_forks(control)
    if child is None:
        return  # Go closed the control socket: the zygote's work is done
    channels, age = child
    worker_hooks.started(age, server_pid)
    if interface == "asgi":
        serve_asgi(app, channels[0], worker_hooks)
        return
    serve_app(app, channels, worker_hooks)


def freeze():
    """Move what the import made out of the garbage collector's reach: a
    collection in a worker would otherwise write to every object's header
    and so copy the pages it shares with the zygote."""
    if hasattr(gc, "freeze"):  # CPython 3.7 and later; not PyPy
        gc.collect()
        gc.freeze()


def serve_forks(control):
    """Fork workers on request until Go closes the control socket.

    Returns None in the zygote at the end, and its channels and age in
    each forked child, which then serves.  One thread only: forking a
    process that has others may copy a lock one of them held.
    """
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    # SIGCHLD only has to wake select(); the reaping happens here.
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_w)
    while True:
        readable, _, _ = select.select([control.sock, wake_r], [], [])
        if wake_r in readable:
            drain(wake_r)
            reap(control)
        if control.sock in readable:
            request = receive(control.sock)
            if request is None:
                return None
            child = fork_worker(control, request, (wake_r, wake_w))
            if child is not None:
                return child


def drain(fd):
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def reap(control):
    """Wait for every child that ended and tell Go how it ended."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        control.send_meta(REAPED, (pid, status))


def receive(sock):
    """Read one Fork frame and the descriptors sent with it.

    Returns (payload, fds), or None at end of file.  Go sends one Fork at a
    time and waits for Forked, so the descriptors read belong to it.
    """
    data, fds = b"", []
    while len(data) < HEADER.size or len(data) < HEADER.size + size_of(data):
        chunk, ancdata, flags, _ = sock.recvmsg(65536, _FD_SPACE)
        fds.extend(unpack_fds(ancdata))
        if flags & socket.MSG_CTRUNC:
            close_all(fds)
            raise RuntimeError("zygote: descriptors of a Fork frame cut")
        if not chunk:
            close_all(fds)
            return None
        data += chunk
    kind, size = HEADER.unpack_from(data)
    if kind != FORK:
        close_all(fds)
        raise RuntimeError("zygote: unexpected frame type %r" % chr(kind))
    return data[HEADER.size:HEADER.size + size], fds


def size_of(data):
    return HEADER.unpack_from(data)[1] if len(data) >= HEADER.size else 0


def unpack_fds(ancdata):
    fds = array.array("i")
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            usable = len(data) - len(data) % fds.itemsize
            fds.frombytes(data[:usable])
    return list(fds)


def close_all(fds):
    for fd in fds:
        os.close(fd)


def fork_worker(control, request, wakeup):
    """Fork one worker.  In the zygote, report its pid and return None; in
    the child, return what it serves with."""
    payload, fds = request
    age = marshal.loads(payload) if payload else 0
    # Output still buffered would be written twice, by both processes.
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError as e:
        close_all(fds)
        control.send_meta(FORKED, "fork: %s" % e)
        return None
    if pid:
        # The zygote must not keep the worker's ends: Go reads EOF on a
        # channel only once every copy is closed.
        close_all(fds)
        control.send_meta(FORKED, pid)
        return None
    try:
        return become_worker(control, fds, wakeup), age
    except BaseException:
        # On stderr as it is now (the zygote's, or the worker's once it is
        # in place), which Go logs; os._exit flushes nothing itself.
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)


def become_worker(control, fds, wakeup):
    """In a fresh child: drop the zygote's parts, put the worker's
    descriptors where a spawned worker has them, and open its channels."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    # Only the zygote talks to Go on the control socket; a worker holding it
    # would keep it open after the zygote died.
    control.sock.close()
    close_all(wakeup)
    # Its own process group, as a spawned worker: a signal to the zygote's
    # group does not reach it.
    os.setpgid(0, 0)
    channels = fds[:-2]
    targets = [FIRST_FD + i for i in range(len(channels))] + [1, 2]
    # Move every descriptor above all the targets first, so that putting
    # one in place never closes another not yet moved.
    floor = max(fds + targets) + 1
    moved = [dup_above(fd, floor) for fd in fds]
    close_all(fds)
    for src, dst in zip(moved, targets):
        os.dup2(src, dst)
    close_all(moved)
    # CPython reseeds random in a forked child, PyPy may not: workers must
    # not draw the same "random" numbers.
    random.seed()
    return [open_channel(FIRST_FD + i, control.max_meta)
            for i in range(len(channels))]


def dup_above(fd, floor):
    """A close-on-exec copy of fd numbered floor or more.  Not with
    F_DUPFD_CLOEXEC, which PyPy's fcntl lacks: F_DUPFD, then the flag."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD, floor)
    os.set_inheritable(copy, False)
    return copy
