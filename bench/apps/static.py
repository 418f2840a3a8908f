"""Static file through wsgi.file_wrapper (sendfile where the server supports it).

The harness writes the file and names it in GOWSGI_BENCH_STATIC; a fallback is
created next to the app for standalone use."""
import os

PATH = os.environ.get("GOWSGI_BENCH_STATIC") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "static.bin")
if not os.path.exists(PATH):
    with open(PATH, "wb") as f:
        f.write(b"s" * (256 << 10))
SIZE = os.path.getsize(PATH)


def application(environ, start_response):
    f = open(PATH, "rb")
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(SIZE))])
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is not None:
        return wrapper(f, 64 << 10)
    return iter(lambda: f.read(64 << 10), b"")
