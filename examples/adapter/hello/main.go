// Command hello is Tornado's WSGIAdapter example in Go: a handler that
// writes "Hello, world" on GET /, built as a shared library
//
//	go build -buildmode=c-shared -o app.so .
//
// and served by wsgiref from serve.py.
package main

import (
	"fmt"
	"net/http"

	"github.com/gowsgi/gowsgi/adapter"
)

func init() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "Hello, world")
	})
	adapter.Export(mux)
}

func main() {} // a shared library never runs main
