"""gowsgi: Python WSGI apps served from Go, and Go handlers served as WSGI.

Installed from a wheel, the package carries the gowsgi command, a static Go
binary that ``gowsgi serve app:app`` (pip's script) or ``python -m gowsgi
serve app:app`` runs; its workers run in this Python (see __main__).

Everywhere, it is the adapter's loader (gowsgi.adapter, standard library
only): a Go http.Handler built with ``go build -buildmode=c-shared``, served
by any WSGI server::

    import gowsgi
    application = gowsgi.load("./app.so")
"""

from .adapter import Application, Error, load

__all__ = ['load', 'Application', 'Error']
