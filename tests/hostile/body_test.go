package hostile

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// procStatus returns the field (as "VmRSS") of /proc/PID/status in bytes,
// or -1.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// spooled returns how many request bodies are spooled in dir and the
// bytes they hold.
func spooled(dir string) (files int, size int64) {
	names, _ := filepath.Glob(filepath.Join(dir, "gowsgi-body-*"))
	for _, n := range names {
		if fi, err := os.Stat(n); err == nil {
			files++
			size += fi.Size()
		}
	}
	return files, size
}

// openFiles returns how many descriptors pid has open, or -1.
func openFiles(pid int) int {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(fds)
}

// stalledBodies opens n connections to addr, each declaring a body of
// declared bytes and sending all but missing of it, and returns them once
// every write is done.
func stalledBodies(t *testing.T, addr string, n int, declared, missing int64, path string) []net.Conn {
	t.Helper()
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", path, declared)
	body := make([]byte, declared-missing)
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, timeout)
			if err != nil {
				failed.Add(1)
				return
			}
			conns[i] = c
			c.SetWriteDeadline(time.Now().Add(timeout))
			if _, err := io.WriteString(c, head); err == nil {
				_, err = c.Write(body)
			}
			if err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	})
	if f := failed.Load(); f > 0 {
		t.Fatalf("%d of %d connections could not send their body", f, n)
	}
	return conns
}

// TestBodyMemoryBudget: 300 connections each declare a 1 MiB body (the
// largest held in memory) and send all but 1,000 bytes of it, then stall.
// With --body-memory-budget 16M, at most 16 bodies are held in memory and
// the others are spooled to $TMPDIR; the server's peak resident memory
// grows by less than twice the budget (the Go heap's garbage collector
// lets the heap reach twice what is live) plus 48 MiB for 300 connections
// and the runtime, where it held all 300 MiB without the budget. Once the
// clients are gone the spool files are removed and the resident memory
// drops back to within twice the budget of where it started (it stayed
// 53 MiB above before the memory was handed back after a spike).
func TestBodyMemoryBudget(t *testing.T) {
	const conns, declared, missing = 300, 1 << 20, 1000
	const budget = 16 << 20
	raiseFileLimit(t, 3*conns+200)
	spool := t.TempDir()
	s, addr := serveApp(t, "app:app", []string{"TMPDIR=" + spool}, "--workers", "1",
		"--body-memory-budget", "16M", "--header-timeout", "60", "--body-timeout", "60")
	if code, _ := get(t, client(), addr, "/warm-up"); code != 200 {
		t.Fatalf("warm-up: %d", code)
	}
	pid := s.Pid()
	base := procStatus(pid, "VmRSS")

	cs := stalledBodies(t, addr, conns, declared, missing, "/upload")
	inMemory := budget / declared
	ok := eventually(timeout, func() bool {
		files, size := spooled(spool)
		return files >= conns-inMemory && size == int64(files)*(declared-missing)
	})
	files, size := spooled(spool)
	peak, rss := procStatus(pid, "VmHWM"), procStatus(pid, "VmRSS")
	t.Logf("%d bodies of %d bytes stalled %d bytes short: %d spooled (%d bytes); resident memory %d MiB before, %d MiB now, %d MiB at the peak",
		conns, declared, missing, files, size, base>>20, rss>>20, peak>>20)
	if !ok {
		t.Errorf("%d bodies spooled, %d bytes; want at least %d, each %d bytes", files, size, conns-inMemory, declared-missing)
	}
	if bound := base + 2*budget + 48<<20; peak > bound {
		t.Errorf("peak resident memory %d MiB; want at most %d MiB (%d MiB to start with, a budget of %d MiB)",
			peak>>20, bound>>20, base>>20, budget>>20)
	}

	for _, c := range cs {
		c.Close()
	}
	if !eventually(timeout, func() bool { n, _ := spooled(spool); return n == 0 }) {
		n, _ := spooled(spool)
		t.Errorf("%d spool files left after the clients left", n)
	}
	bound := base + 2*budget
	returned := eventually(timeout, func() bool { return procStatus(pid, "VmRSS") <= bound })
	after := procStatus(pid, "VmRSS")
	t.Logf("resident memory after the clients left: %d MiB", after>>20)
	if !returned {
		t.Errorf("resident memory %d MiB %v after the clients left; want at most %d MiB", after>>20, timeout, bound>>20)
	}
	if code, _ := get(t, client(), addr, "/after"); code != 200 {
		t.Errorf("after: %d", code)
	}
}

// TestBodyTimeout: 50 connections declare a 1 MiB body, send 1,000 bytes
// of it and stall. --body-timeout 1s closes each of them between 1 s and
// 5 s after its last byte, long before --header-timeout's 60 s; the
// server's descriptors drop back to where they were, no spool file is
// left, and none of the requests reached the app.
func TestBodyTimeout(t *testing.T) {
	const conns, declared, sent = 50, 1 << 20, 1000
	const limit = time.Second
	raiseFileLimit(t, 3*conns+200)
	spool := t.TempDir()
	record := filepath.Join(t.TempDir(), "record")
	s, addr := serveApp(t, "app:app", []string{"TMPDIR=" + spool, "RECORD_FILE=" + record}, "--workers", "1",
		"--header-timeout", "60", "--body-timeout", "1s", "--body-memory-limit", "512K")
	if code, _ := get(t, client(), addr, "/warm-up"); code != 200 {
		t.Fatalf("warm-up: %d", code)
	}
	pid := s.Pid()
	fds := openFiles(pid)

	start := time.Now()
	cs := stalledBodies(t, addr, conns, declared, declared-sent, "/stall")
	sentAt := time.Since(start)
	cut := make([]time.Duration, conns)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cut[i] = awaitCut(c, timeout, start)
		}()
	}
	wg.Wait()
	first, last := slices.Min(cut), slices.Max(cut)
	t.Logf("%d stalled bodies (sent within %v) cut after %v to %v (--body-timeout %v)", conns, sentAt, first, last, limit)
	if first < limit-100*time.Millisecond {
		t.Errorf("a stalled body was cut after %v, before its %v timeout", first, limit)
	}
	if last > sentAt+5*limit {
		t.Errorf("a stalled body was cut only after %v; want within %v of its last byte", last, 5*limit)
	}
	if !eventually(timeout, func() bool { return openFiles(pid) <= fds }) {
		t.Errorf("the server has %d descriptors open; %d before the stalled bodies", openFiles(pid), fds)
	}
	if n, _ := spooled(spool); n != 0 {
		t.Errorf("%d spool files left", n)
	}
	if b, _ := os.ReadFile(record); strings.Contains(string(b), "/stall") {
		t.Errorf("a stalled request reached the app:\n%s", b)
	}
}

// TestBodyMinRate: 20 connections declare 1,000 bytes and send them a
// byte every 200 ms, never pausing as long as --body-timeout 1s, which
// alone would let each hold its connection for 200 s. With --body-min-rate
// 100 (bytes a second, after the 1 s grace) each is closed between 0.9 s
// and 5 s after its headers; none reached the app, and a normal upload of
// 1 MiB on the same server succeeds.
func TestBodyMinRate(t *testing.T) {
	const conns, declared, tick = 20, 1000, 200 * time.Millisecond
	record := filepath.Join(t.TempDir(), "record")
	_, addr := serveApp(t, "app:app", []string{"RECORD_FILE=" + record}, "--workers", "1",
		"--header-timeout", "60", "--body-timeout", "1s", "--body-min-rate", "100")
	stop := make(chan struct{})
	defer close(stop)
	cut := make([]time.Duration, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, timeout)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			start := time.Now()
			fmt.Fprintf(c, "POST /trickle HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", declared)
			go func() {
				for range declared {
					select {
					case <-stop:
						return
					case <-time.After(tick):
					}
					if _, err := c.Write([]byte("x")); err != nil {
						return
					}
				}
			}()
			cut[i] = awaitCut(c, timeout, start)
		}()
	}
	wg.Wait()
	first, last := slices.Min(cut), slices.Max(cut)
	t.Logf("%d bodies trickled at 5 bytes a second, cut after %v to %v (--body-timeout 1s --body-min-rate 100)", conns, first, last)
	if first < 900*time.Millisecond || last > 5*time.Second {
		t.Errorf("trickled bodies cut after %v to %v; want between 0.9 s and 5 s", first, last)
	}
	if b, _ := os.ReadFile(record); strings.Contains(string(b), "/trickle") {
		t.Errorf("a trickled request reached the app:\n%s", b)
	}
	resp, err := client().Post("http://"+addr+"/upload", "application/octet-stream", strings.NewReader(strings.Repeat("x", 1<<20)))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok 1048576\n" {
		t.Errorf("upload of 1 MiB: %s %q", resp.Status, b)
	}
}

// awaitCut reads c until the server closes it (at most timeout) and
// returns when that was, since start.
func awaitCut(c net.Conn, timeout time.Duration, start time.Time) time.Duration {
	c.SetReadDeadline(time.Now().Add(timeout))
	io.Copy(io.Discard, c)
	return time.Since(start)
}
