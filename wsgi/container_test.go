package wsgi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// call sends a request to the pep.py app named app and returns the
// response with its body.
func (ts *testServer) call(t *testing.T, app, method, path string, body io.Reader) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-App", app)
	return ts.do(t, req)
}

// open GETs path from app and returns the response once the first n bytes
// of its body have arrived; the rest is the caller's to read or abandon.
func (ts *testServer) open(t *testing.T, app, path string, n int) *http.Response {
	t.Helper()
	req := httpRequest("GET", ts.URL+path)
	req.Header.Set("X-App", app)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestPEP3333 runs the core behaviours on every interpreter at hand.
func TestPEP3333(t *testing.T) {
	for _, python := range pythons(t) {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(python)))+"-"+filepath.Base(python), func(t *testing.T) {
			ts := startApp(t, Config{App: "pep:dispatch", Python: python})
			t.Run("hello", func(t *testing.T) { testHello(t, ts) })
			t.Run("environ", func(t *testing.T) { testEnvironKeys(t, ts) })
			t.Run("input", func(t *testing.T) { testInput(t, ts) })
			t.Run("validate", func(t *testing.T) { testValidate(t, ts) })
			t.Run("streaming", func(t *testing.T) { testStreaming(t, ts) })
			t.Run("close", func(t *testing.T) { testClose(t, ts) })
			t.Run("start_response", func(t *testing.T) { testStartResponse(t, ts) })
			t.Run("errors", func(t *testing.T) { testAppErrors(t, ts) })
			t.Run("refused", func(t *testing.T) { testRefused(t, ts) })
			t.Run("content-length", func(t *testing.T) { testContentLength(t, ts) })
			t.Run("no-body", func(t *testing.T) { testNoBody(t, ts) })
			t.Run("file_wrapper", func(t *testing.T) { testFileWrapper(t, ts) })
			t.Run("output", func(t *testing.T) { testOutput(t, ts) })
		})
	}
}

func testHello(t *testing.T, ts *testServer) {
	resp, body := ts.call(t, "hello", "GET", "/", nil)
	if resp.StatusCode != 200 || body != "Hello world!\n" {
		t.Fatalf("got %s %q", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("Content-Type %q", ct)
	}
	if resp.ContentLength != int64(len(body)) {
		t.Errorf("Content-Length %d for a %d-byte body", resp.ContentLength, len(body))
	}
}

func environOf(t *testing.T, ts *testServer, req *http.Request) map[string]any {
	t.Helper()
	req.Header.Set("X-App", "environ_json")
	resp, body := ts.do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s", resp.Status, body)
	}
	var env map[string]any
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	return env
}

func testEnvironKeys(t *testing.T, ts *testServer) {
	req, _ := http.NewRequest("GET", ts.URL+"/a%2Fb/caf%C3%A9/%FF?q=%20x&y", nil)
	req.Header.Add("X-Multi", "one")
	req.Header.Add("X-Multi", "two")
	req.Header["X_Spoof"] = []string{"evil"}
	req.Header.Add("Cookie", "a=1")
	req.Header.Add("Cookie", "b=2")
	req.Header.Set("X-Latin", "caf\xe9")
	env := environOf(t, ts, req)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ts.URL, "http://"))
	want := map[string]any{
		"REQUEST_METHOD":        "GET",
		"SCRIPT_NAME":           "",
		"PATH_INFO":             "/a/b/caf\u00c3\u00a9/\u00ff",
		"path_bytes":            hex.EncodeToString([]byte("/a/b/caf\xc3\xa9/\xff")),
		"QUERY_STRING":          "q=%20x&y",
		"RAW_URI":               "/a%2Fb/caf%C3%A9/%FF?q=%20x&y",
		"SERVER_NAME":           "127.0.0.1",
		"SERVER_PORT":           port,
		"SERVER_PROTOCOL":       "HTTP/1.1",
		"REMOTE_ADDR":           "127.0.0.1",
		"HTTP_HOST":             "127.0.0.1:" + port,
		"HTTP_X_MULTI":          "one, two",
		"HTTP_COOKIE":           "a=1; b=2",
		"HTTP_X_LATIN":          "caf\u00e9",
		"wsgi.url_scheme":       "http",
		"wsgi.multithread":      false,
		"wsgi.multiprocess":     true,
		"wsgi.run_once":         false,
		"wsgi.input_terminated": true,
	}
	for k, v := range want {
		if fmt.Sprint(env[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %#v, want %#v", k, env[k], v)
		}
	}
	for _, k := range []string{"HTTP_X_SPOOF", "HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE", "CONTENT_LENGTH"} {
		if v, ok := env[k]; ok {
			t.Errorf("%s = %v: must be absent", k, v)
		}
	}
	if env["REMOTE_PORT"] == "" || env["REMOTE_PORT"] == nil {
		t.Error("REMOTE_PORT missing")
	}
	types := env["types"].(map[string]any)
	for k, v := range types {
		if !strings.Contains(k, ".") && v != "str" {
			t.Errorf("%s is a %v: CGI variables must be native str", k, v)
		}
	}
	if types["wsgi.version"] != "tuple" || types["wsgi.errors"] == nil || types["wsgi.file_wrapper"] != "type" {
		t.Errorf("wsgi.* types: %v", types)
	}

	// A POST: CONTENT_TYPE and CONTENT_LENGTH, never as HTTP_*.
	req, _ = http.NewRequest("POST", ts.URL+"/", strings.NewReader("a=1"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	env = environOf(t, ts, req)
	if env["CONTENT_TYPE"] != "application/x-www-form-urlencoded" || env["CONTENT_LENGTH"] != "3" {
		t.Errorf("CONTENT_TYPE %v CONTENT_LENGTH %v", env["CONTENT_TYPE"], env["CONTENT_LENGTH"])
	}
	if _, ok := env["HTTP_CONTENT_TYPE"]; ok {
		t.Error("HTTP_CONTENT_TYPE present")
	}
}

func testInput(t *testing.T, ts *testServer) {
	lines := strings.Repeat("line one\nline two\n\n", 500) + "no newline at end"
	big := bytes.Repeat([]byte("0123456789abcdef"), 200000) // 3.2 MB: spooled to a file
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	cases := []struct {
		name, how string
		body      []byte
		chunked   bool
		expect    bool
	}{
		{"read", "read", []byte(lines), false, false},
		{"read(n)", "read-n", []byte(lines), false, false},
		{"readline", "readline", []byte(lines), false, false},
		{"readlines", "readlines", []byte(lines), false, false},
		{"iteration", "iter", []byte(lines), false, false},
		{"CONTENT_LENGTH", "", []byte(lines), false, false},
		{"chunked", "", []byte(lines), true, false},
		{"chunked read", "read", []byte(lines), true, false},
		{"empty", "read", nil, false, false},
		{"spooled", "read-n", big, false, false},
		{"spooled chunked", "readline", big, true, false},
		{"100-continue", "read", []byte(lines), false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length: chunked encoding
			}
			req, _ := http.NewRequest("POST", ts.URL+"/?"+tc.how, body)
			req.Header.Set("X-App", "read_body")
			client := ts.Client()
			if tc.expect {
				req.Header.Set("Expect", "100-continue")
				tr := ts.Client().Transport.(*http.Transport).Clone()
				tr.ExpectContinueTimeout = 10 * time.Second // only a real 100 lets the body go
				client = &http.Client{Transport: tr}
				defer tr.CloseIdleConnections()
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				Size          int
				SHA256        string
				ContentLength *string `json:"content_length"`
				Terminated    bool
				After         string
				Expect        *string
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatalf("%s: %v", resp.Status, err)
			}
			if got.Size != len(tc.body) || got.SHA256 != sum(tc.body) {
				t.Errorf("app read %d bytes (sha %s), sent %d", got.Size, got.SHA256[:8], len(tc.body))
			}
			wantCL := fmt.Sprint(len(tc.body))
			if len(tc.body) == 0 {
				if got.ContentLength != nil && *got.ContentLength != "0" {
					t.Errorf("CONTENT_LENGTH %q for an empty body", *got.ContentLength)
				}
			} else if got.ContentLength == nil || *got.ContentLength != wantCL {
				t.Errorf("CONTENT_LENGTH %v, want %s", got.ContentLength, wantCL)
			}
			if !got.Terminated || got.After != "" {
				t.Errorf("wsgi.input_terminated %v, read past the end %q", got.Terminated, got.After)
			}
			if got.Expect != nil {
				t.Errorf("HTTP_EXPECT %q reached the app: the server answers it", *got.Expect)
			}
		})
	}
}

func testValidate(t *testing.T, ts *testServer) {
	for _, app := range []string{"validated_hello", "validated_environ", "validated_write", "validated_file"} {
		resp, body := ts.call(t, app, "GET", "/x", nil)
		if resp.StatusCode != 200 {
			t.Errorf("%s under wsgiref.validate: %s %q", app, resp.Status, body)
		}
	}
	resp, body := ts.call(t, "validated_echo", "POST", "/", strings.NewReader("ping"))
	if resp.StatusCode != 200 || body != "ping" {
		t.Errorf("validated_echo: %s %q", resp.Status, body)
	}
	if t.Failed() {
		t.Logf("log:\n%s", ts.logs.String())
	}
}

func testStreaming(t *testing.T, ts *testServer) {
	var burst []string
	for i := range 300 {
		burst = append(burst, fmt.Sprintf("line %d\n", i))
	}
	for _, tc := range []struct {
		app    string
		before []string // the chunks yielded before the generator blocks
	}{
		{"fifo_stream", []string{"first\n"}},
		{"burst_stream", burst}, // small chunks Go may gather
	} {
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", ts.URL+"/?"+fifo, nil)
		req.Header.Set("X-App", tc.app)
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		// The generator is now blocked opening the fifo: what it yielded
		// before must have reached us without waiting for what follows.
		for _, want := range tc.before {
			line, err := br.ReadString('\n')
			if err != nil || line != want {
				t.Fatalf("%s: chunk %q %v, want %q", tc.app, line, err, want)
			}
		}
		if err := os.WriteFile(fifo, []byte("released\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		rest, err := io.ReadAll(br)
		if err != nil || string(rest) != "then released\n" {
			t.Fatalf("%s: rest: %q %v", tc.app, rest, err)
		}
	}
}

func testClose(t *testing.T, ts *testServer) {
	// Success.
	resp, body := ts.call(t, "tracked", "GET", "/?ok-1", nil)
	if resp.StatusCode != 200 || body != "ab" {
		t.Fatalf("%s %q", resp.Status, body)
	}
	ts.logs.await(t, "CLOSED ok-1")
	// An error while iterating.
	req, _ := http.NewRequest("GET", ts.URL+"/?error-1", nil)
	req.Header.Set("X-App", "tracked")
	if resp, err := ts.Client().Do(req); err == nil {
		io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	ts.logs.await(t, "CLOSED error-1")
	// The client goes away mid-stream.
	resp = ts.open(t, "endless", "/?gone-1", 4096)
	resp.Body.Close() // closes the connection: the rest is unread
	ts.logs.await(t, "CLOSED endless-gone-1")
	// The worker is free again.
	if resp, body := ts.call(t, "hello", "GET", "/", nil); resp.StatusCode != 200 {
		t.Fatalf("after a client left: %s %q", resp.Status, body)
	}
}

func testStartResponse(t *testing.T, ts *testServer) {
	resp, body := ts.call(t, "write_then_iterable", "GET", "/", nil)
	if body != "written then returned" {
		t.Errorf("write() then iterable: %q", body)
	}
	resp, body = ts.call(t, "exc_info_before_output", "GET", "/", nil)
	if resp.StatusCode != 503 || resp.Header.Get("X-Why") != "exc_info" || body != "replaced" {
		t.Errorf("exc_info before output: %s %v %q", resp.Status, resp.Header, body)
	}
	resp, body = ts.call(t, "second_start_response", "GET", "/", nil)
	if resp.StatusCode != 500 {
		t.Errorf("second start_response without exc_info: %s %q", resp.Status, body)
	}
	ts.logs.await(t, "start_response() called a second time without exc_info")
	// exc_info after output: the error propagates and the connection is cut.
	req, _ := http.NewRequest("GET", ts.URL+"/", nil)
	req.Header.Set("X-App", "exc_info_after_output")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || strings.Contains(string(b), "never") {
		t.Errorf("exc_info after output: body %q err %v: want a cut connection", b, err)
	}
	ts.logs.await(t, "ValueError: too late")
}

func testAppErrors(t *testing.T, ts *testServer) {
	resp, body := ts.call(t, "raises", "GET", "/boom", nil)
	if resp.StatusCode != 500 || strings.Contains(body, "ZeroDivision") {
		t.Errorf("exception before output: %s %q (no traceback to the client)", resp.Status, body)
	}
	ts.logs.await(t, "ZeroDivisionError: division by zero", "path=/boom")

	resp, body = ts.call(t, "empty_then_raise", "GET", "/", nil)
	if resp.StatusCode != 500 {
		t.Errorf("raise after an empty chunk: %s %q", resp.Status, body)
	}

	resp, body = ts.call(t, "simple_app", "GET", "/", nil)
	if resp.StatusCode != 500 {
		t.Errorf("str chunks: %s %q", resp.Status, body)
	}
	ts.logs.await(t, "PEP 3333 needs bytes: the response iterable gave str")

	// After output: never a truncated body that looks complete.
	req, _ := http.NewRequest("GET", ts.URL+"/", nil)
	req.Header.Set("X-App", "raises_after_output")
	r, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err == nil {
		t.Errorf("error after output: got a complete-looking body %q", b)
	}
	ts.logs.await(t, "KeyError: 'halfway'", "status=cut would_be=500")
}

func testRefused(t *testing.T, ts *testServer) {
	cases := []struct{ flaw, reason string }{
		{"status", `200OK\" is not a 3-digit code`},
		{"status-bytes", "status must be str (PEP 3333), not bytes"},
		{"crlf", "X-Split value"},
		{"hop", "hop-by-hop header Connection"},
		{"int", `header X-Count has a value of type int`},
		{"latin1", "beyond latin-1"},
		{"name", `Bad Name\" is not an HTTP token`},
		{"tuple", "must be a (name, value) tuple"},
	}
	for _, tc := range cases {
		t.Run(tc.flaw, func(t *testing.T) {
			resp, body := ts.call(t, "bad_start", "GET", "/?"+tc.flaw, nil)
			if resp.StatusCode != 500 || strings.Contains(body, "should not") {
				t.Errorf("%s %q", resp.Status, body)
			}
			if resp.Header.Get("Set-Cookie") != "" || resp.Header.Get("X-Split") != "" {
				t.Errorf("app headers leaked: %v", resp.Header)
			}
			ts.logs.await(t, tc.reason)
		})
	}
}

func testContentLength(t *testing.T, ts *testServer) {
	for _, tc := range []struct {
		query    string // DECLARED-SENT[-CHUNKS]
		declared int
	}{{"5-10", 5}, {"5-10-10", 5}, {"25-40-20", 25}} {
		resp, body := ts.call(t, "content_length", "GET", "/?"+tc.query, nil)
		if resp.StatusCode != 200 || body != strings.Repeat("x", tc.declared) {
			t.Errorf("%s: %s %q", tc.query, resp.Status, body)
		}
	}
	ts.logs.await(t, "app sent more than its Content-Length")
	// An endless generator behind a Content-Length: the response ends,
	// and the iterable is closed.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/", nil)
	req.Header.Set("X-App", "endless_with_length")
	if resp, body := ts.do(t, req); resp.StatusCode != 200 || body != "xxxxxxxxxx" {
		t.Errorf("endless generator behind Content-Length 10: %s %q", resp.Status, body)
	}
	ts.logs.await(t, "CLOSED endless-length")
	req, _ = http.NewRequest("GET", ts.URL+"/?10-5", nil)
	req.Header.Set("X-App", "content_length")
	r, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("declared 10, sent 5: body %q, err %v; want the connection closed short", b, err)
	}
}

func testNoBody(t *testing.T, ts *testServer) {
	for _, tc := range []struct{ method, code string }{{"HEAD", "200"}, {"GET", "204"}, {"GET", "304"}} {
		resp, body := ts.call(t, "status", tc.method, "/?"+tc.code, nil)
		if fmt.Sprint(resp.StatusCode) != tc.code || body != "" {
			t.Errorf("%s %s: %s %q", tc.method, tc.code, resp.Status, body)
		}
	}
	// The connection is still good for the next request.
	if resp, body := ts.call(t, "hello", "GET", "/", nil); body != "Hello world!\n" {
		t.Errorf("after no-body responses: %s %q", resp.Status, body)
	}
}

func testFileWrapper(t *testing.T, ts *testServer) {
	src, err := os.ReadFile("testdata/apps/pep.py")
	if err != nil {
		t.Fatal(err)
	}
	fds := openFDs(t)
	for _, tc := range []struct {
		method, query string
		want          []byte
	}{
		{"GET", "", src},
		{"GET", "offset", src[100:]},
		{"GET", "unbuffered-offset", src[100:]},
		{"GET", "short", src[:len(src)-10]},
		{"GET", "filelike", src},
		{"GET", "pipe", src},
		{"HEAD", "", nil},
		{"GET", "", src}, // the connection is still good after a HEAD
	} {
		resp, body := ts.call(t, "file_wrapper", tc.method, "/?"+tc.query, nil)
		if resp.StatusCode != 200 || body != string(tc.want) {
			t.Errorf("%s file_wrapper %q: %s, %d bytes, want %d", tc.method, tc.query, resp.Status, len(body), len(tc.want))
		}
		if resp.ContentLength != int64(len(tc.want)) && tc.method == "GET" {
			t.Errorf("%s file_wrapper %q: Content-Length %d, want %d", tc.method, tc.query, resp.ContentLength, len(tc.want))
		}
	}

	// Go sends a file from a descriptor that shares its position with the
	// app's: the app's position must be where the app left it.
	if resp, body := ts.call(t, "file_kept", "GET", "/?serve", nil); body != string(src[100:]) {
		t.Errorf("file_kept: %s, %d bytes, want %d", resp.Status, len(body), len(src)-100)
	}
	proctest.Poll(t, 10*time.Second, "the kept file's position 100 after it was sent", func() (string, bool) {
		_, where := ts.call(t, "file_kept", "GET", "/?where", nil)
		if where != "100" && where != "none" {
			t.Fatalf("the kept file's position is %s after it was sent, want 100", where)
		}
		return where, where == "100"
	})

	// A file far larger than the socket buffers, which the app closes (and
	// which has no name) while Go is still sending it.
	resp, body := ts.call(t, "big_file", "GET", "/?8", nil)
	if resp.StatusCode != 200 || len(body) != 8<<20 {
		t.Fatalf("big_file: %s, %d bytes", resp.Status, len(body))
	}
	for i := 0; i < len(body); i += 16 {
		if want := fmt.Sprintf("%015d\n", i/16); body[i:i+16] != want {
			t.Fatalf("big_file: at %d %q, want %q", i, body[i:i+16], want)
		}
	}

	// Each descriptor the worker passed is closed once its response is sent.
	proctest.Poll(t, 10*time.Second, fmt.Sprintf("at most %d descriptors open after the file responses (%d before)", fds+4, fds), func() (int, bool) {
		n := openFDs(t)
		return n, n <= fds+4
	})
}

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func testOutput(t *testing.T, ts *testServer) {
	resp, body := ts.call(t, "noisy", "GET", "/", nil)
	if resp.StatusCode != 200 || body != "still fine" {
		t.Fatalf("%s %q", resp.Status, body)
	}
	ts.logs.await(t, "noisy stdout line", "noisy stderr line", "noisy wsgi.errors line", "raw fd 1 line", "stream=stderr", "worker=")
	if resp, body := ts.call(t, "hello", "GET", "/", nil); body != "Hello world!\n" {
		t.Errorf("after noise: %s %q", resp.Status, body)
	}
}
