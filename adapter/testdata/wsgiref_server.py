"""Serve wsgiapp with wsgiref: PORT [--validate] [--threads]."""

import signal
import socketserver
import sys
from wsgiref.simple_server import WSGIServer, make_server
from wsgiref.validate import validator

import wsgiapp


class ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


def on_term(signum, frame):
    print('caught SIGTERM', flush=True)
    sys.exit(0)


def main():
    port, opts = int(sys.argv[1]), sys.argv[2:]
    app = wsgiapp.application
    if '--validate' in opts:
        app = validator(app)
    cls = ThreadingWSGIServer if '--threads' in opts else WSGIServer
    signal.signal(signal.SIGTERM, on_term)
    with make_server('127.0.0.1', port, app, server_class=cls) as httpd:
        print('serving on', port, flush=True)
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            print('caught SIGINT', flush=True)


if __name__ == '__main__':
    main()
