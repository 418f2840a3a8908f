"""10 MB download from memory, in 64 KB pieces with a Content-Length."""

SIZE = 10 << 20
PIECE = b"d" * (64 << 10)


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(SIZE))])
    return (PIECE for _ in range(SIZE // len(PIECE)))
