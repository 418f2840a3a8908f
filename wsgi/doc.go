// Package wsgi runs Python WSGI applications (PEP 3333) from Go's net/http,
// and converts between Go requests and WSGI environs.
//
// It is the Go counterpart of Tornado's tornado.wsgi module. A Container,
// like Tornado's WSGIContainer, is an http.Handler that serves a WSGI
// application, so Go handlers and a Django or Flask app can share one server
// and one http.ServeMux:
//
//	app, err := wsgi.NewContainer(wsgi.Config{App: "mysite.wsgi:application"})
//	if err != nil { ... }
//	if err := app.Start(ctx); err != nil { ... } // the Python traceback, if it fails to import
//	defer app.Shutdown(context.Background())
//	mux := http.NewServeMux()
//	mux.HandleFunc("/api/", apiHandler)
//	mux.Handle("/", app) // everything else goes to Django
//
// Unlike Tornado's container, the application never blocks the server: it
// runs in a supervised pool of Python worker processes, each with one or more
// threads. Go does the HTTP, reads request bodies whole before a worker is
// involved, and precomputes every environ string; the worker's share of a
// request is a few C-level calls around the application's own code.
//
// Environ is the Go form of WSGIContainer.environ: the exact string
// variables an application sees for a request. NewRequest is its reverse.
package wsgi
