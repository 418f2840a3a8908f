"""The adapted Go hello of the benchmark."""

import os
import sys

sys.path.insert(0, os.environ['GOWSGI_PYTHON'])

import gowsgi  # noqa: E402

application = gowsgi.load(os.environ['GOWSGI_LIB'])
