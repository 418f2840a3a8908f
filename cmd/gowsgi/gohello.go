package main

import (
	"io"
	"net/http"
	"time"
)

// helloBody is bench/apps/hello.py's response body.
const helloBody = "Hello, World!\n"

// goHello answers every request with the response of bench/apps/hello.py,
// from Go: with --go-hello it takes the app's place, so that the benchmark
// measures what HTTP alone costs in this binary, behind the same listeners,
// proxies, static mounts and access log. Like the Python app it sleeps
// 100 ms for /sleep, the slow request of the mixed scenario.
type goHello struct{}

func (goHello) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/sleep" {
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	h := w.Header()
	h["Content-Type"] = []string{"text/plain"}
	h["Content-Length"] = []string{"14"}
	io.WriteString(w, helloBody)
}
