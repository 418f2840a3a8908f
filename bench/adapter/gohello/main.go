// Command gohello is the Go side of the adapter benchmark: the same hello
// as pyhello.py.
package main

import (
	"net/http"

	"github.com/gowsgi/gowsgi/adapter"
)

func init() {
	adapter.Export(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("Hello, world"))
	}))
}

func main() {}
