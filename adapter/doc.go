// Package adapter runs a Go http.Handler as a WSGI application (PEP 3333)
// inside a Python web server: gunicorn, uWSGI, waitress, mod_wsgi or
// wsgiref. It is the Go counterpart of Tornado's WSGIAdapter.
//
// A package main registers its handler with Export from an init function
// (a shared library never runs main):
//
//	package main
//
//	import (
//		"net/http"
//
//		"github.com/gowsgi/gowsgi/adapter"
//	)
//
//	func init() {
//		adapter.Export(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//			w.Write([]byte("Hello, world"))
//		}))
//	}
//
//	func main() {}
//
// and is built as a C shared library:
//
//	go build -buildmode=c-shared -o app.so .
//
// which the pure-Python package gowsgi loads (adapter/python/gowsgi; its
// module gowsgi.adapter, in every gowsgi wheel):
//
//	import gowsgi
//	application = gowsgi.load("./app.so")
//
// Each request becomes an *http.Request as wsgi.NewRequest describes it,
// with the full path (SCRIPT_NAME+PATH_INFO); Environ returns the environ
// itself. The handler runs on its own goroutine, and Python drives it: a
// call into the library returns the next thing the handler needs from
// Python (body bytes, a log line for wsgi.errors) or has for it (the status
// and headers, a chunk of the body). So the body is read from wsgi.input
// only as the handler reads it, every Flush becomes one chunk of the WSGI
// iterable, and the Python thread holds no GIL while it waits: ctypes
// releases it around every call, so threaded servers run handlers in
// parallel. The request's context is cancelled when the handler returns or
// when the server closes the iterable early, as it does when the client
// goes away.
//
// The ResponseWriter buffers like net/http's: it sends the head with the
// first 32 KiB of body, on Flush, or when the handler returns, when it can
// still add Content-Length; it sniffs Content-Type as net/http does. It
// drops hop-by-hop headers and trailers, which PEP 3333 forbids, and the
// 1xx responses, which WSGI cannot send. Hijack fails and says why in the
// log: the server owns the connection, so there are no WebSockets.
//
// A panic in the handler is logged with its stack to wsgi.errors; if the
// head was not sent yet, the response is a 500, else the connection is
// dropped. The process lives on.
//
// The library holds one Go runtime, and a process can hold only one: build
// all Go handlers into one library (one http.ServeMux). The runtime does
// not survive fork(), so gowsgi.load loads the library lazily, on the first
// request, in the process that serves it; it refuses, with an error naming
// the fix, to run a library loaded before a fork. Go installs signal
// handlers only for the synchronous signals (SIGSEGV, SIGBUS, SIGFPE),
// SIGPIPE (which it forwards to Python's SIG_IGN) and SIGURG; it leaves
// SIGINT, SIGTERM, SIGHUP and the rest to the host, and gowsgi.load blocks
// those on Go's threads, so they are delivered to the server's threads.
// A handler must not use os/signal.
//
// This is the only package of the module that uses cgo. No Go pointer ever
// reaches Python: requests are named by runtime/cgo.Handle integers, and
// bytes are copied into memory allocated with C's malloc.
package adapter
