// Package asgi serves Python ASGI 3.0 applications (FastAPI, Starlette,
// Django's get_asgi_application, Quart, plain ASGI) from Go's net/http,
// through the same supervised pool of Python worker processes as package
// wsgi.
//
// A Container is an http.Handler, so an ASGI app, a WSGI app and Go
// handlers share one server and one http.ServeMux:
//
//	api, err := asgi.NewContainer(asgi.Config{Config: wsgi.Config{App: "main:app"}})
//	if err != nil { ... }
//	if err := api.Start(ctx); err != nil { ... } // the traceback, if it fails to import or its lifespan startup fails
//	defer api.Shutdown(context.Background())
//	mux := http.NewServeMux()
//	mux.Handle("/api/", api)
//
// Each worker runs one asyncio event loop (uvloop when it is importable)
// and many requests at once, multiplexed over its one channel as streams
// with their own flow-control windows, up to Config.MaxStreams per worker;
// a new request goes to the ready worker with the fewest. Go does the HTTP
// (HTTP/1.1, HTTP/2, TLS), reads the request body as it arrives and hands
// it to the app's receive() in chunks (more_body), and writes each
// http.response.body chunk to the client as it comes, flushed. The app's
// lifespan runs in each worker before it takes requests, and its shutdown
// when the worker stops; each request's scope["state"] is a shallow copy
// of the lifespan state.
//
// The scope follows the ASGI HTTP spec 2.4: "path" is percent-decoded
// UTF-8 and includes "root_path" (Config.Prefix), "raw_path" is the path as
// sent, "headers" are the request's, names lower-cased, duplicates kept.
// scope["extensions"] advertises "http.response.pathsend" (Go sends the
// file at a path) and, when the client accepts them (HTTP/2, or "TE:
// trailers"), "http.response.trailers". A request with "Upgrade:
// websocket" is a websocket scope, bridged to the client's WebSocket by
// Go.
//
// Failures are answered as package wsgi answers them, through
// Config.ErrorHandler with a *wsgi.Error: an exception before
// http.response.start is a 500 with the traceback in the log, after it the
// connection is cut; an app that returns without a response gets 500; a
// bad status or header is refused (500) as for WSGI; a dead worker is 502,
// an app that sends nothing on a request for Config.Timeout 504.
package asgi
