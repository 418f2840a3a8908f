"""gunicorn's MODULE:factory() form."""


def create_app(greeting="hi"):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [greeting.encode()]
    return app


not_callable = 42
