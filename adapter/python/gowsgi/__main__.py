"""Run the gowsgi command of this package: python -m gowsgi serve app:app.

A wheel carries the static Go binary as gowsgi/bin/gowsgi, and the gowsgi
script that pip installs calls main() too.  main() replaces this process
with the binary (exec: signals, the exit status and the process id are the
server's own, with no Python in between) and tells it, in
GOWSGI_DEFAULT_PYTHON, which interpreter runs this code.  That is the
default of gowsgi's --python (cmd/gowsgi/python.go), so that the workers run
in the environment gowsgi was installed into, as gunicorn's do: a virtualenv
needs neither --python nor activation.
"""

import os
import sys

# Read by cmd/gowsgi; the user's setting is GOWSGI_PYTHON, which wins.
DEFAULT_PYTHON_ENV = 'GOWSGI_DEFAULT_PYTHON'


def binary():
    """Return the path of this package's gowsgi binary."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, 'bin', 'gowsgi')


def main(argv=None):
    """Exec the gowsgi binary with argv (default: sys.argv[1:])."""
    if argv is None:
        argv = sys.argv[1:]
    path = binary()
    if not os.access(path, os.X_OK):
        # A checkout's adapter/python, or a wheel for another platform.
        sys.exit('gowsgi: no gowsgi binary at %s: install a gowsgi wheel '
                 'for this platform (./scripts/wheel builds them), or '
                 'build it with go build ./cmd/gowsgi' % path)
    env = dict(os.environ)
    if sys.executable:
        env[DEFAULT_PYTHON_ENV] = sys.executable
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(path, [path] + list(argv), env)


if __name__ == '__main__':
    main()
