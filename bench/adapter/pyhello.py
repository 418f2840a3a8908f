"""The plain-Python baseline of the adapter benchmark."""


def application(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain'),
                              ('Content-Length', '12')])
    return [b'Hello, world']
