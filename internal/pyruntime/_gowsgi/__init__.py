"""The Python side of gowsgi: a worker that serves one WSGI application.

Go owns HTTP, TLS, buffering and supervision; this package only turns a
request frame into a call of the application and its response into frames.
It uses the standard library only and runs on CPython 3.8+ and PyPy.
"""
