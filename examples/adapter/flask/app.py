"""A Flask site with a Go handler mounted at /go.

    go build -buildmode=c-shared -o gohandler.so .
    python3 -m gunicorn -k gthread --threads 8 app:application
"""

import os
import sys

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware

HERE = os.path.dirname(os.path.abspath(__file__))
# Run from a checkout; with the gowsgi wheel installed, just import it.
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'adapter', 'python'))

import gowsgi  # noqa: E402

site = Flask(__name__)


@site.route('/')
def index():
    return 'Hello from Flask; the Go API is at /go/hello\n'


# Loaded lazily, in each worker, on its first request under /go.
go_api = gowsgi.load(os.environ.get('GOWSGI_LIB',
                                    os.path.join(HERE, 'gohandler.so')))

application = DispatcherMiddleware(site, {'/go': go_api})
