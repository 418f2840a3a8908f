"""Plain-WSGI hello. /sleep sleeps 100 ms: the slow 1% of the mixed scenario."""
import time

BODY = b"Hello, World!\n"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/sleep":
        time.sleep(0.1)
    start_response("200 OK", HEADERS)
    return [BODY]
