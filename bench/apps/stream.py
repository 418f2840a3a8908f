"""Streamed response: 100 chunks of 1 KB, no Content-Length (the server must chunk or close)."""

CHUNK = b"x" * 1023 + b"\n"


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return (CHUNK for _ in range(100))
