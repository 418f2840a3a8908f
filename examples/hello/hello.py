"""The simplest WSGI application: the seed's simple_app, with bytes.

Serve it with:

    go run ./cmd/gowsgi serve --chdir examples/hello hello:simple_app
"""


def simple_app(environ, start_response):
    status = "200 OK"
    response_headers = [("Content-type", "text/plain")]
    start_response(status, response_headers)
    return [b"Hello world!\n"]
