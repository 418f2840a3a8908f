"""The memory scenario's app: GET streams BENCH_BIG bytes (default 1 GB) in
64 KB pieces; POST reads the body in 64 KB pieces and discards it. A server
that buffers either whole shows it in its RSS."""
import os

SIZE = int(os.environ.get("BENCH_BIG", 10**9))
PIECE = b"b" * (64 << 10)


def application(environ, start_response):
    if environ["REQUEST_METHOD"] == "POST":
        stream, n = environ["wsgi.input"], 0
        left = int(environ.get("CONTENT_LENGTH") or 0)
        while left > 0:
            chunk = stream.read(min(left, 64 << 10))
            if not chunk:
                break
            n += len(chunk)
            left -= len(chunk)
        body = str(n).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]
    if environ.get("PATH_INFO") == "/ready":
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(SIZE))])
    full, rest = divmod(SIZE, len(PIECE))
    return _pieces(full, rest)


def _pieces(full, rest):
    for _ in range(full):
        yield PIECE
    if rest:
        yield PIECE[:rest]
