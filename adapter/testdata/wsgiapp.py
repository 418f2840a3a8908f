"""The WSGI module that the servers under test import."""

import os
import sys

sys.path.insert(0, os.environ['GOWSGI_PYTHON'])

import gowsgi  # noqa: E402

application = gowsgi.load(os.environ['GOWSGI_APP'],
                          lazy=os.environ.get('GOWSGI_EAGER') != '1')
