package asgi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestRequestBody: bodies reach the app whole, in order, whether sized,
// chunked or far past the window.
func TestRequestBody(t *testing.T) {
	ts := start(t, "spec:app", nil)
	for _, n := range []int{0, 1, 100 << 10, 3 << 20} {
		body := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		resp, got := ts.do(t, httpRequest(t, "POST", ts.srv.URL+"/echo", bytes.NewReader(body)))
		if resp.StatusCode != 200 || got != string(body) {
			t.Errorf("%d bytes: status %d, %d bytes back", n, resp.StatusCode, len(got))
		}
		if n > 64<<10 {
			// Streamed as it arrived: more than one http.request.
			if c, _ := strconv.Atoi(resp.Header.Get("X-Chunks")); c < 2 {
				t.Errorf("%d bytes in %d http.request messages, want several", n, c)
			}
		}
	}
	// Chunked, from a pipe: the body is not known whole beforehand.
	pr, pw := io.Pipe()
	go func() {
		for i := range 3 {
			fmt.Fprintf(pw, "part %d;", i)
		}
		pw.Close()
	}()
	if resp, got := ts.do(t, httpRequest(t, "POST", ts.srv.URL+"/echo", pr)); resp.StatusCode != 200 || got != "part 0;part 1;part 2;" {
		t.Errorf("chunked: %d %q", resp.StatusCode, got)
	}
}

// TestBodyLimit: a body past MaxRequestBody gets 413, declared or not.
func TestBodyLimit(t *testing.T) {
	ts := start(t, "spec:app", func(c *Config) { c.MaxRequestBody = 1000 })
	if resp, _ := ts.do(t, httpRequest(t, "POST", ts.srv.URL+"/echo", bytes.NewReader(make([]byte, 1001)))); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("declared 1001 bytes: status %d, want 413", resp.StatusCode)
	}
	pr, pw := io.Pipe()
	go func() { pw.Write(make([]byte, 5000)); pw.Close() }()
	if resp, _ := ts.do(t, httpRequest(t, "POST", ts.srv.URL+"/echo", pr)); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 5000 bytes: status %d, want 413", resp.StatusCode)
	}
}

// TestBodyBackpressure: an app that does not read its body holds Go to
// the stream's window; the client waits, and nothing is lost.
func TestBodyBackpressure(t *testing.T) {
	ts := start(t, "spec:app", nil)
	const size = 64 << 20
	var written atomic.Int64
	pr, pw := io.Pipe()
	go func() {
		chunk := make([]byte, 64<<10)
		for written.Load() < size {
			n, err := pw.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
		pw.Close()
	}()
	done := make(chan string, 1)
	go func() {
		resp, err := ts.srv.Client().Post(ts.srv.URL+"/gate?bp", "application/octet-stream", pr)
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := readAll(resp)
		done <- b
	}()
	proctest.Eventually(t, 10*time.Second, "2 MB sent by the client", func() bool { return written.Load() >= 2<<20 })
	w := ts.c.pool.Workers()[0]
	for _, s := range w.Mux.Streams() {
		if s.Unacked > frame.Window {
			t.Errorf("stream %d: %d bytes sent to an app that read none, past the %d-byte window", s.ID, s.Unacked, frame.Window)
		}
	}
	if written.Load() >= size {
		t.Errorf("the client sent all %d bytes to an app that read none", size)
	}
	if _, body := ts.get(t, "/open?bp"); body != "opened" {
		t.Fatalf("/open: %q", body)
	}
	if got := <-done; got != strconv.Itoa(size) {
		t.Errorf("the app read %s bytes, want %d", got, size)
	}
}

// TestPathsend: Go sends the file the app names.
func TestPathsend(t *testing.T) {
	ts := start(t, "spec:app", nil)
	path := filepath.Join(t.TempDir(), "file.txt")
	want := bytes.Repeat([]byte("pathsend "), 100000)
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	if resp, body := ts.get(t, "/pathsend?"+path); resp.StatusCode != 200 || body != string(want) {
		t.Errorf("/pathsend: %d, %d bytes, want %d", resp.StatusCode, len(body), len(want))
	}
}

// TestDisconnect: a client that leaves mid-stream is http.disconnect to
// the app.
func TestDisconnect(t *testing.T) {
	ts := start(t, "spec:app", nil)
	resp, err := ts.srv.Client().Get(ts.srv.URL + "/watch?d1")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "tick\n" {
		t.Fatalf("first tick: %q %v", buf, err)
	}
	resp.Body.Close()
	proctest.Poll(t, 10*time.Second, "the app hears http.disconnect", func() (string, bool) {
		_, body := ts.get(t, "/heard?d1")
		return body, body == "http.disconnect"
	})
}

// TestSlowUpload: a body that takes longer than Timeout to arrive, to an
// app that answers once it has it whole, is not the app's silence: each
// chunk that moves on restarts the clock. (The pace is real time: the
// behaviour is about elapsed time.)
func TestSlowUpload(t *testing.T) {
	ts := start(t, "spec:app", func(c *Config) { c.Timeout = time.Second })
	pr, pw := io.Pipe()
	go func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for i := range 10 {
			<-tick.C
			fmt.Fprintf(pw, "%d;", i)
		}
		pw.Close()
	}()
	resp, body := ts.do(t, httpRequest(t, "POST", ts.srv.URL+"/echo", pr))
	if resp.StatusCode != 200 || body != "0;1;2;3;4;5;6;7;8;9;" {
		t.Errorf("a 2.5 s upload with a 1 s Timeout: %d %q", resp.StatusCode, body)
	}
}

// TestStalledUploadHoldsNoStream: a body's first 64 KiB, or all of it, is
// read before its stream opens. With MaxStreams 1, an upload stalled after
// its first bytes leaves the worker's one stream free (a GET is served
// rather than refused past QueueTimeout); once the upload goes on, the app
// gets its small body whole, in one http.request.
func TestStalledUploadHoldsNoStream(t *testing.T) {
	ts := start(t, "spec:app", func(c *Config) { c.MaxStreams = 1; c.QueueTimeout = 2 * time.Second })
	pr, pw := io.Pipe()
	sent, goOn := make(chan struct{}), make(chan struct{})
	go func() {
		fmt.Fprint(pw, "part 0;") // returns once the client has taken it
		close(sent)
		<-goOn
		fmt.Fprint(pw, "part 1;")
		pw.Close()
	}()
	type result struct {
		resp *http.Response
		body string
	}
	upload := make(chan result, 1)
	go func() {
		resp, body := ts.do(t, httpRequest(t, "POST", ts.srv.URL+"/echo", pr))
		upload <- result{resp, body}
	}()
	<-sent
	if resp, body := ts.get(t, "/echo"); resp.StatusCode != 200 {
		t.Errorf("a GET while an upload stalls on the worker's one stream: %d %q; want 200", resp.StatusCode, body)
	}
	close(goOn)
	r := <-upload
	if r.resp.StatusCode != 200 || r.body != "part 0;part 1;" || r.resp.Header.Get("X-Chunks") != "1" {
		t.Errorf("the upload: %d %q in %s http.request messages; want 200, its body whole in 1", r.resp.StatusCode, r.body, r.resp.Header.Get("X-Chunks"))
	}
}
