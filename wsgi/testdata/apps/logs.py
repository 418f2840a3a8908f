"""An app that logs as an app that has not configured logging does.

Python's logging then prints "LEVEL:name:message" on stderr
(logging.warning() calls basicConfig()), and tracebacks many lines each.
"""

import logging
import traceback


def application(environ, start_response):
    logging.warning("gowsgi-warning-x")
    try:
        1 / 0
    except ZeroDivisionError:
        traceback.print_exc()  # a bare traceback on stderr
    try:
        {}["gowsgi-key"]
    except KeyError:
        logging.exception("gowsgi-boom")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"logged\n"]
