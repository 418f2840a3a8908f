// Command gohello serves the hello app's exact response from a Go handler:
// the "HTTP alone" limit of the benchmark. The issue asks for this limit
// from the gowsgi binary itself; until the CLI has such a mode, this
// stand-in uses the same net/http stack.
//
// usage: gohello -bind 127.0.0.1:PORT
package main

import (
	"flag"
	"log"
	"net/http"
	"time"
)

var body = []byte("Hello, World!\n")

func main() {
	bind := flag.String("bind", "127.0.0.1:8000", "address to listen on")
	flag.Parse()
	h := func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/sleep" {
			time.Sleep(100 * time.Millisecond) // the mixed scenario's slow request
		}
		hdr := w.Header()
		hdr["Content-Type"] = []string{"text/plain"}
		hdr["Content-Length"] = []string{"14"}
		w.Write(body)
	}
	log.Fatal(http.ListenAndServe(*bind, http.HandlerFunc(h)))
}
