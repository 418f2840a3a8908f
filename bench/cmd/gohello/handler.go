package main

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"
)

// helloBody is bench/apps/hello.py's response body.
const helloBody = "Hello, World!\n"

// downloadSize and downloadPiece are bench/apps/download.py's: 10 MB in
// 64 KB pieces, with a Content-Length.
const (
	downloadSize  = 10 << 20
	downloadPiece = 64 << 10
)

// goHello answers every request with the response of bench/apps/hello.py,
// from Go, so that the benchmark measures what Go's HTTP alone costs on
// this machine. Like the Python app it sleeps 100 ms for /sleep, the slow
// request of the mixed scenario; /download is bench/apps/download.py's
// response, what moving 10 MB alone costs; a WebSocket on any path is
// bench/apps/wsecho.py's echo.
type goHello struct {
	piece []byte // one piece of /download, made once
}

func newGoHello() goHello {
	return goHello{piece: bytes.Repeat([]byte("d"), downloadPiece)}
}

func (g goHello) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if isWebSocket(r) {
		wsEcho(w, r)
		return
	}
	h := w.Header()
	switch r.URL.Path {
	case "/download":
		h["Content-Type"] = []string{"application/octet-stream"}
		h["Content-Length"] = []string{strconv.Itoa(downloadSize)}
		for range downloadSize / downloadPiece {
			if _, err := w.Write(g.piece); err != nil {
				return
			}
		}
		return
	case "/sleep":
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	h["Content-Type"] = []string{"text/plain"}
	h["Content-Length"] = []string{"14"}
	io.WriteString(w, helloBody)
}
