// Command gohandler is the Go half of a Flask site: an API that app.py
// mounts at /go with Werkzeug's DispatcherMiddleware. Build it with
//
//	go build -buildmode=c-shared -o gohandler.so .
package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/gowsgi/gowsgi/adapter"
)

func init() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			name = "world"
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"greeting": "Hello, " + name + ", from Go",
			// The adapter passes the full path; the mount point is in
			// the environ.
			"mountedAt": adapter.Environ(r)["SCRIPT_NAME"],
		})
	})
	mux.HandleFunc("POST /upper", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(bytes.ToUpper(b))
	})
	// Werkzeug moves /go to SCRIPT_NAME; the Go request has the whole path.
	adapter.Export(http.StripPrefix("/go", mux))
}

func main() {}
