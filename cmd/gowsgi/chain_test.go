package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/accesslog"
	"github.com/gowsgi/gowsgi/forwarded"
)

// TestHandlerChain sends requests from a trusted proxy through web.handler:
// a static file and the app each get a log line with the forwarded client
// address (forwarded before the access log), the static mount answers
// before the app, and a chunked request closes its connection (the framing
// guard in front of everything).
func TestHandlerChain(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("static\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mux, err := newStaticMux([]staticMount{{prefix: "/s", dir: dir}}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer mux.Close()
	var logged bytes.Buffer
	op := &ops{mux: mux, alog: accesslog.Config{Format: accesslog.Common, Output: &logged}}
	trusted, err := forwarded.ParseTrusted([]string{"192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	w := &web{o: &serveOptions{headerTimeout: time.Second, limitHeaderSize: 64 << 10}, trusted: trusted}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app\n") })
	h := w.handler(op, app)
	for _, tc := range []struct {
		path, body, want, connection string
	}{
		{"/s/a.txt", "", "static\n", ""},
		{"/x", "", "app\n", ""},
		{"/x", "chunked", "app\n", "close"},
	} {
		logged.Reset()
		r := httptest.NewRequest("GET", tc.path, nil)
		if tc.body != "" {
			r = httptest.NewRequest("POST", tc.path, strings.NewReader(tc.body))
			r.TransferEncoding = []string{"chunked"}
			r.ContentLength = -1
		}
		r.RemoteAddr = "192.0.2.1:1234"
		r.Header.Set("X-Forwarded-For", "203.0.113.7")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if got := rec.Body.String(); got != tc.want {
			t.Errorf("%s %s: body %q; want %q", r.Method, tc.path, got, tc.want)
		}
		if got := rec.Header().Get("Connection"); got != tc.connection {
			t.Errorf("%s %s: Connection %q; want %q", r.Method, tc.path, got, tc.connection)
		}
		if !strings.HasPrefix(logged.String(), "203.0.113.7 ") {
			t.Errorf("%s %s: access log %q; want a line for the forwarded client 203.0.113.7", r.Method, tc.path, logged.String())
		}
	}
}
