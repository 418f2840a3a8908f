"""Serve app.so with wsgiref, as Tornado's WSGIAdapter example does."""

import os
import sys
import wsgiref.simple_server

HERE = os.path.dirname(os.path.abspath(__file__))
# Run from a checkout; with the gowsgi wheel installed, just import it.
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'adapter', 'python'))

import gowsgi  # noqa: E402

if __name__ == '__main__':
    application = gowsgi.load(os.environ.get('GOWSGI_LIB',
                                             os.path.join(HERE, 'app.so')))
    port = int(os.environ.get('PORT', '8888'))
    server = wsgiref.simple_server.make_server(
        os.environ.get('HOST', ''), port, application)
    print('serving on port', port, flush=True)
    server.serve_forever()
