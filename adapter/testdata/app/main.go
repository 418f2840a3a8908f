// Command app is the handler that the adapter's tests serve under every
// WSGI server: one endpoint per behaviour they check.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/gowsgi/gowsgi/adapter"
)

func init() { adapter.Export(mux()) }

func main() {}

func mux() *http.ServeMux {
	m := http.NewServeMux()
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "Hello, world")
	})
	m.HandleFunc("/echo/", echo)
	m.HandleFunc("POST /upload", upload)
	m.HandleFunc("POST /duplex", duplex)
	m.HandleFunc("GET /stream", stream)
	m.HandleFunc("GET /forever", forever)
	m.HandleFunc("GET /cancelled", cancelled)
	m.HandleFunc("GET /rendezvous", rendezvous)
	m.HandleFunc("GET /goroutines", goroutines)
	m.HandleFunc("GET /big", big)
	m.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom from Go") })
	m.HandleFunc("GET /hijack", func(w http.ResponseWriter, r *http.Request) {
		_, _, err := http.NewResponseController(w).Hijack()
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "hijack: %v", err)
	})
	m.HandleFunc("GET /pid", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, os.Getpid())
	})
	return m
}

// echo reports what the handler sees of the request.
func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Multi", "a")
	w.Header().Add("X-Multi", "b")
	w.Header().Set("Connection", "close") // hop-by-hop: must be dropped
	json.NewEncoder(w).Encode(map[string]any{
		"method": r.Method, "path": r.URL.Path, "rawPath": r.URL.RawPath, "query": r.URL.Query(),
		"proto": r.Proto, "host": r.Host, "tls": r.TLS != nil, "contentLength": r.ContentLength,
		"contentType": r.Header.Get("Content-Type"), "cookie": r.Header.Get("Cookie"),
		"custom": r.Header.Get("X-Custom"), "body": string(body), "err": fmt.Sprint(err),
		"scriptName": adapter.Environ(r)["SCRIPT_NAME"],
	})
}

// upload reads the body in small pieces and reports their count and hash.
func upload(w http.ResponseWriter, r *http.Request) {
	h := sha256.New()
	n, err := io.CopyBuffer(h, r.Body, make([]byte, 4096))
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "%d %s %v", n, hex.EncodeToString(h.Sum(nil)), err)
}

// duplex answers each 2 KiB piece of the body as soon as it has read it.
// (gunicorn reads wsgi.input ahead in 1 KiB pieces.)
func duplex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	buf := make([]byte, 2048)
	for {
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			fmt.Fprintf(w, "end: %v\n", err)
			return
		}
		fmt.Fprintf(w, "got %s\n", buf[:5])
		w.(http.Flusher).Flush()
	}
}

// stream flushes "one", then waits for a byte on the FIFO named by the query
// before it writes "two": a client sees "one" before the handler returns
// only if each Flush is a chunk.
func stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(w, "one\n")
	w.(http.Flusher).Flush()
	f, err := os.Open(r.URL.Query().Get("fifo"))
	if err != nil {
		fmt.Fprintf(w, "error: %v\n", err)
		return
	}
	defer f.Close()
	f.Read(make([]byte, 1))
	fmt.Fprint(w, "two\n")
}

var (
	mu     sync.Mutex
	done   = map[string]bool{}          // /forever ids whose context ended
	groups = map[string]chan struct{}{} // /rendezvous names
	counts = map[string]int{}
)

// forever streams until its context is cancelled, and records that.
func forever(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("id")
	w.Header().Set("Content-Type", "text/plain")
	chunk := make([]byte, 16<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}
	for {
		select {
		case <-r.Context().Done():
			mu.Lock()
			done[id] = true
			mu.Unlock()
			return
		default:
		}
		w.Write(chunk)
		w.(http.Flusher).Flush()
	}
}

func cancelled(w http.ResponseWriter, r *http.Request) {
	mu.Lock()
	defer mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(w, done[r.URL.Query().Get("id")])
}

// rendezvous returns once n requests of the same name are in it at the same
// time, or fails after a deadline: it passes only if handlers overlap.
func rendezvous(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	mu.Lock()
	ch, ok := groups[name]
	if !ok {
		ch = make(chan struct{})
		groups[name] = ch
	}
	counts[name]++
	if counts[name] == n {
		close(ch)
	}
	mu.Unlock()
	w.Header().Set("Content-Type", "text/plain")
	select {
	case <-ch:
		fmt.Fprint(w, "met")
	case <-time.After(10 * time.Second):
		w.WriteHeader(http.StatusGatewayTimeout)
		fmt.Fprint(w, "alone")
	}
}

// goroutines computes with goroutines that outlive no request.
func goroutines(w http.ResponseWriter, r *http.Request) {
	results := make(chan int)
	for i := range 10 {
		go func() { results <- i * i }()
	}
	sum := 0
	for range 10 {
		sum += <-results
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprint(w, sum)
}

// big writes n bytes without flushing: several chunks.
func big(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("n"))
	w.Header().Set("Content-Type", "application/octet-stream")
	for i := 0; i < n; i++ {
		w.Write([]byte{byte('a' + i%26)})
	}
}
