"""A Flask app that says which Python serves it, for the wheel's test."""

import os
import sys

import flask

app = flask.Flask(__name__)


@app.route('/')
def where():
    return {
        'prefix': sys.prefix,
        'executable': sys.executable,
        'ppid': os.getppid(),
        'flask': flask.__name__,
    }
