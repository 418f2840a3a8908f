package adapter_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestAdapterServers serves testdata/app under every server and mode, and
// checks that clients see the same responses from each.
func TestAdapterServers(t *testing.T) {
	library(t)
	for _, k := range serverKinds {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, k.name, nil)
			for _, c := range commonCases {
				t.Run(c.name, func(t *testing.T) { c.run(t, s) })
			}
		})
	}
}

var commonCases = []struct {
	name string
	run  func(*testing.T, *server)
}{
	{"hello", testHello},
	{"echo", testEcho},
	{"upload", testUpload},
	{"big", testBig},
	{"goroutines", testGoroutines},
	{"head", testHead},
	{"panic", testPanic},
	{"hijack", testHijack},
	{"stream", testStream},
	{"duplex", testDuplex},
	{"cancel", testCancel},
	{"concurrency", testConcurrency},
}

func testHello(t *testing.T, s *server) {
	resp, body := s.do(t, "GET", "/", nil)
	if resp.StatusCode != 200 || body != "Hello, world" || resp.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("GET / = %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, _ = s.do(t, "GET", "/nowhere", nil)
	if resp.StatusCode != 404 {
		t.Errorf("GET /nowhere = %d, want 404", resp.StatusCode)
	}
}

func testEcho(t *testing.T, s *server) {
	resp, body := s.do(t, "POST", "/echo/caf%C3%A9?x=1&y=%C3%A9", strings.NewReader("hello body"),
		"Content-Type", "text/x-test", "Cookie", "a=1", "X-Custom", "custom value")
	var got struct {
		Method, Path, Proto, Host, ContentType, Cookie, Custom, Body, Err, ScriptName string
		Query                                                                         map[string][]string
		TLS                                                                           bool
		ContentLength                                                                 int64
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("echo: %v: %q", err, body)
	}
	want := got
	want.Method, want.Path, want.Host = "POST", "/echo/café", s.url[len("http://"):]
	want.ContentType, want.Cookie, want.Custom, want.Body, want.Err = "text/x-test", "a=1", "custom value", "hello body", "<nil>"
	want.Query = map[string][]string{"x": {"1"}, "y": {"é"}}
	want.TLS, want.ContentLength, want.ScriptName = false, 10, ""
	if !strings.HasPrefix(got.Proto, "HTTP/1.") {
		t.Errorf("Proto = %q", got.Proto)
	}
	want.Proto = got.Proto
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("echo:\n got %+v\nwant %+v", got, want)
	}
	if v := resp.Header.Values("X-Multi"); fmt.Sprint(v) != "[a b]" {
		t.Errorf("X-Multi = %q, want [a b]", v)
	}
}

func testUpload(t *testing.T, s *server) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	sum := sha256.Sum256(data)
	_, body := s.do(t, "POST", "/upload", bytes.NewReader(data))
	if want := fmt.Sprintf("%d %s <nil>", len(data), hex.EncodeToString(sum[:])); body != want {
		t.Errorf("upload = %q, want %q", body, want)
	}
}

func testBig(t *testing.T, s *server) {
	_, body := s.do(t, "GET", "/big?n=200000", nil)
	if len(body) != 200000 || body[26] != 'a' {
		t.Errorf("big: %d bytes", len(body))
	}
}

func testGoroutines(t *testing.T, s *server) {
	if _, body := s.do(t, "GET", "/goroutines", nil); body != "285" {
		t.Errorf("goroutines = %q, want 285", body)
	}
}

func testHead(t *testing.T, s *server) {
	resp, body := s.do(t, "HEAD", "/", nil)
	if resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD / = %d %q", resp.StatusCode, body)
	}
}

func testPanic(t *testing.T, s *server) {
	resp, body := s.do(t, "GET", "/panic", nil)
	if resp.StatusCode != 500 || body != "Internal Server Error\n" {
		t.Errorf("GET /panic = %d %q, want 500", resp.StatusCode, body)
	}
	s.log.waitFor(t, "panic serving GET /panic: boom from Go", 5*time.Second)
	s.log.waitFor(t, "main.mux.func", 5*time.Second) // the stack
	testHello(t, s)                                  // and the process lives on
}

func testHijack(t *testing.T, s *server) {
	_, body := s.do(t, "GET", "/hijack", nil)
	if !strings.Contains(body, "Hijack is not supported under WSGI") {
		t.Errorf("hijack = %q", body)
	}
	s.log.waitFor(t, "Hijack is not supported under WSGI", 5*time.Second)
}

// testStream shows that a flushed chunk reaches the client while the
// handler still runs: the handler waits on a FIFO that the test writes only
// once it has read the first chunk.
func testStream(t *testing.T, s *server) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(s.url + "/stream?fifo=" + fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	if line != "one\n" {
		t.Fatalf("first chunk %q, %v; want one", line, err)
	}
	// The handler is blocked in open(2) on the FIFO until this opens it.
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{1})
	f.Close()
	rest, err := io.ReadAll(r)
	if string(rest) != "two\n" || err != nil {
		t.Errorf("rest %q, %v; want two", rest, err)
	}
}

// testDuplex shows that wsgi.input is read as the handler reads: the client
// sends the second half of the body only after it has the answer to the
// first.
func testDuplex(t *testing.T, s *server) {
	if !s.duplex {
		t.Skipf("%s reads the whole body before it calls the application", s.name)
	}
	c, err := net.Dial("tcp", s.url[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "POST /duplex HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n%s", strings.Repeat("h", 2048))
	r := bufio.NewReader(c)
	var all strings.Builder
	for !strings.Contains(all.String(), "got hhhhh\n") {
		line, err := r.ReadString('\n')
		all.WriteString(line)
		if err != nil {
			t.Fatalf("before the second half: %v, read %q", err, all.String())
		}
	}
	c.Write(bytes.Repeat([]byte("w"), 2048))
	rest, _ := io.ReadAll(r)
	if !strings.Contains(string(rest), "got wwwww\n") || !strings.Contains(string(rest), "end: EOF") {
		t.Errorf("after the second half: %q", rest)
	}
}

// testCancel shows that the request's context ends when the client goes
// away mid-response.
func testCancel(t *testing.T, s *server) {
	id := fmt.Sprintf("%s-%d", s.name, time.Now().UnixNano())
	resp, err := client.Get(s.url + "/forever?id=" + id)
	if err != nil {
		t.Fatal(err)
	}
	io.ReadFull(resp.Body, make([]byte, 1000))
	resp.Body.Close() // the server's writes fail; it closes the iterable
	// Ask every worker: the answer is in the one that served it.
	proctest.Eventually(t, 10*time.Second, "the handler's context to be cancelled after the client left", func() bool {
		_, body := s.do(t, "GET", "/cancelled?id="+id, nil)
		return body == "true"
	})
}

// testConcurrency shows handlers overlapping under threaded servers: each
// of two requests returns only once the other has started.
func testConcurrency(t *testing.T, s *server) {
	if !s.threaded {
		t.Skipf("%s runs one request per process at a time", s.name)
	}
	name := fmt.Sprintf("%s-%d", s.name, time.Now().UnixNano())
	var wg sync.WaitGroup
	bodies := make([]string, 2)
	for i := range bodies {
		wg.Go(func() { _, bodies[i] = s.do(t, "GET", "/rendezvous?n=2&name="+name, nil) })
	}
	wg.Wait()
	if bodies[0] != "met" || bodies[1] != "met" {
		t.Errorf("rendezvous = %q, want both met", bodies)
	}
}
