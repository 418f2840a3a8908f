package hostile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// raiseFileLimit raises the test process's RLIMIT_NOFILE soft limit to at
// least n (within the hard limit), for the connections a test holds; the
// server started after it inherits the limit.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("RLIMIT_NOFILE hard limit %d < %d", lim.Max, n)
	}
	old := lim
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// throughput runs 8 keep-alive clients for d and returns requests per
// second served, failing the test on any failure.
func throughput(t *testing.T, addr string, d time.Duration) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	st := load(ctx, 8, "http://"+addr+"/")
	if st.failures() > 0 {
		t.Errorf("normal clients: %v", st)
	}
	return float64(st.ok.Load()) / d.Seconds()
}

// A hanger is one slow or idle connection and what became of it.
type hanger struct {
	kind  string
	conn  net.Conn
	start time.Time
	cut   atomic.Int64 // when the server cut it, in ns after start; 0 if not yet
}

// TestSlowAndIdleClients holds 2,000 idle keep-alive connections, then
// 1,000 connections trickling their headers a byte every 300 ms and 1,000
// sending their headers and then the body a byte every 300 ms for 0.9 s
// before they stall, and measures 8 normal clients meanwhile. They keep
// at least half the throughput of a clean run (the test logs the ratio,
// and how many slow clients were still there at the end of the
// measurement); --header-timeout 3s cuts the header tricklers 3 s after
// they connect and the stalled bodies 3 s after their last byte,
// --keep-alive 5s the idle ones; no slow client reaches the app.
func TestSlowAndIdleClients(t *testing.T) {
	const headerTricklers, bodyTricklers, idlers = 1000, 1000, 2000
	const tick = 300 * time.Millisecond
	limits := map[string]time.Duration{"header": 3 * time.Second, "body": 3 * time.Second, "idle": 5 * time.Second}
	raiseFileLimit(t, 3*(headerTricklers+bodyTricklers+idlers)+1000)
	s, addr := serveApp(t, "app:app", nil, "--workers", "2", "--header-timeout", "3s", "--keep-alive", "5s")

	throughput(t, addr, 500*time.Millisecond) // warm up
	clean := throughput(t, addr, 2*time.Second)

	var (
		mu      sync.Mutex
		hangers []*hanger
		wg      sync.WaitGroup
		stop    = make(chan struct{})

		idleSem    = make(chan struct{}, 100)
		idleServed atomic.Int64
	)
	t.Cleanup(func() {
		close(stop)
		mu.Lock()
		for _, h := range hangers {
			h.conn.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	dial := func(kind string) *hanger {
		// Before the dial: the server's clock can start no earlier, and
		// this goroutine may run late among thousands.
		start := time.Now()
		conn, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			t.Errorf("%s: %v", kind, err)
			return nil
		}
		h := &hanger{kind: kind, conn: conn, start: start}
		mu.Lock()
		hangers = append(hangers, h)
		mu.Unlock()
		return h
	}
	// watch reads until the server closes the connection, and notes when.
	watch := func(h *hanger, r io.Reader) {
		io.Copy(io.Discard, r)
		h.cut.Store(int64(time.Since(h.start)))
	}
	trickle := func(h *hanger, data string) {
		for i := 0; i < len(data); i++ {
			select {
			case <-stop:
				return
			case <-time.After(tick):
			}
			if _, err := h.conn.Write([]byte{data[i]}); err != nil {
				return
			}
		}
	}
	opened := func(n int) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(hangers) == n
		}
	}

	// The idle connections first, each after one request.
	for range idlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			idleSem <- struct{}{} // at most 100 first requests at once, within --max-queued
			h := dial("idle")
			if h == nil {
				<-idleSem
				return
			}
			h.start = time.Now() // the idle time starts after the response
			fmt.Fprintf(h.conn, "GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
			br := bufio.NewReader(h.conn)
			resp, err := http.ReadResponse(br, nil)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
			}
			<-idleSem
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("idle connection's request: %v", err)
				return
			}
			idleServed.Add(1)
			watch(h, br) // EOF once idle too long
		}()
	}
	if !eventually(timeout, func() bool { return opened(idlers)() && idleServed.Load() == idlers }) {
		t.Fatalf("could not open the %d idle connections", idlers)
	}
	// Then the slow ones.
	for i := range headerTricklers + bodyTricklers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i < headerTricklers {
				if h := dial("header"); h != nil {
					go trickle(h, "GET /slow-header HTTP/1.1\r\nHost: x\r\nX-Slow: "+strings.Repeat("a", 100)+"\r\n\r\n")
					watch(h, h.conn)
				}
				return
			}
			if h := dial("body"); h != nil {
				h.start = time.Now().Add(3 * tick) // the stall begins after 3 bytes, no sooner
				fmt.Fprintf(h.conn, "POST /slow-body HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
				go trickle(h, "012")
				watch(h, h.conn)
			}
		}()
	}
	if !eventually(timeout, opened(idlers+headerTricklers+bodyTricklers)) {
		t.Fatalf("could not open the %d slow connections", headerTricklers+bodyTricklers)
	}
	loaded := throughput(t, addr, 1500*time.Millisecond)
	present := 0
	mu.Lock()
	for _, h := range hangers {
		if h.cut.Load() == 0 {
			present++
		}
	}
	mu.Unlock()
	ratio := loaded / clean
	t.Logf("normal clients: %.0f req/s clean, %.0f req/s with %d slow and %d idle connections (%d still there at the end): %.2f of clean",
		clean, loaded, headerTricklers+bodyTricklers, idlers, present, ratio)
	if present < (headerTricklers+bodyTricklers+idlers)*9/10 {
		t.Errorf("only %d slow or idle connections left at the end of the measurement", present)
	}
	if ratio < 0.5 {
		t.Errorf("throughput under slow clients %.2f of clean; want at least 0.5", ratio)
	}

	// Every slow or idle connection is cut by its timeout, with slack.
	if !eventually(15*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, h := range hangers {
			if h.cut.Load() == 0 {
				return false
			}
		}
		return true
	}) {
		t.Error("some slow or idle connections were not cut within 15 s")
	}
	mu.Lock()
	worst := map[string]time.Duration{}
	early := map[string]int{}
	for _, h := range hangers {
		d := time.Duration(h.cut.Load())
		worst[h.kind] = max(worst[h.kind], d)
		if d > 0 && d < limits[h.kind]-100*time.Millisecond {
			early[h.kind]++
		}
	}
	mu.Unlock()
	t.Logf("cut after at most: %v (limits %v)", worst, limits)
	for kind, n := range early {
		t.Errorf("%d %s connections cut before their %v timeout", n, kind, limits[kind])
	}
	if c := s.Count("path=/slow-"); c > 0 {
		t.Errorf("%d slow requests reached the app", c)
	}
	if code, _ := get(t, client(), addr, "/after"); code != 200 {
		t.Errorf("after: %d", code)
	}
}

// TestBodyTimeoutLifted: --header-timeout bounds each pause in a request
// body, but not the time the app takes once the body is in, whether its
// length was declared or chunked.
func TestBodyTimeoutLifted(t *testing.T) {
	_, addr := serveApp(t, "app:app", nil, "--workers", "1", "--threads", "2", "--header-timeout", "0.5")
	c := client()
	for _, chunked := range []bool{false, true} {
		body := io.Reader(strings.NewReader("0123456789"))
		if chunked {
			body = io.MultiReader(body) // no length: sent chunked
		}
		resp, err := c.Post("http://"+addr+"/sleep?1.5", "text/plain", body)
		if err != nil {
			t.Fatalf("chunked=%v: %v", chunked, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "slept\n" {
			t.Errorf("chunked=%v: got %s %q; want 200 after the app's 1.5 s", chunked, resp.Status, b)
		}
	}
}
