package hostile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestKillWorkersUnderLoad: while 16 keep-alive clients load 3 workers of
// 2 threads for 3 s, a random worker is SIGKILLed every 200 ms. Only the
// requests in flight on a killed worker may fail (at most threads per
// kill, each a 502); every other request succeeds; afterwards the pool is
// back to 3 ready workers.
func TestKillWorkersUnderLoad(t *testing.T) {
	const workers, threads = 3, 2
	s, addr := serveApp(t, "app:app", nil, "--workers", fmt.Sprint(workers), "--threads", fmt.Sprint(threads),
		"--admin", "127.0.0.1:0")
	admin := s.adminAddr()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var stats *loadStats
	done := make(chan struct{})
	go func() {
		defer close(done)
		stats = load(ctx, 16, "http://"+addr+"/sleep?0.002")
	}()
	kills := 0
	tick := time.NewTicker(200 * time.Millisecond)
	for ctx.Err() == nil {
		select {
		case <-tick.C:
		case <-ctx.Done():
			continue
		}
		pids := s.workerPIDs()
		if len(pids) == 0 {
			continue
		}
		if syscall.Kill(pids[rand.IntN(len(pids))], syscall.SIGKILL) == nil {
			kills++
		}
	}
	tick.Stop()
	<-done
	failed := stats.failures()
	t.Logf("%d kills: %v; %.2f failed requests per kill", kills, stats, float64(failed)/float64(max(kills, 1)))
	if kills < 10 {
		t.Errorf("only %d kills in 3 s", kills)
	}
	if failed > threads*kills {
		t.Errorf("%d requests failed for %d kills of %d-thread workers: more than those in flight", failed, kills, threads)
	}
	for why := range stats.failed {
		if !strings.HasPrefix(why, "502") {
			t.Errorf("a request failed with %q; only 502s from killed workers are expected", why)
		}
	}
	if stats.ok.Load() < 100 {
		t.Errorf("only %d requests served", stats.ok.Load())
	}
	// The pool returns to full size: every seat has a ready worker.
	want := fmt.Sprintf(`gowsgi_workers{state="ready"} %d`, workers)
	var metrics string
	if !eventually(15*time.Second, func() bool {
		metrics = getMetrics(admin)
		return strings.Contains(metrics, want) && len(s.workerPIDs()) == workers
	}) {
		t.Errorf("the pool did not return to %d ready workers; children %v, metrics:\n%s", workers, s.workerPIDs(), grepLines(metrics, "gowsgi_workers"))
	}
	if code, _ := get(t, client(), addr, "/after"); code != 200 {
		t.Errorf("after the kills: %d", code)
	}
}

func (s *server) adminAddr() string {
	s.t.Helper()
	line := s.WaitLine("admin listening")
	_, addr, _ := strings.Cut(line, "addr=")
	addr, _, _ = strings.Cut(addr, " ")
	return addr
}

func getMetrics(admin string) string {
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// postBig posts 2 MiB, past the 1 MiB kept in memory, so the body is
// spooled to a file.
func postBig(c *http.Client, addr string) (int, string, error) {
	resp, err := c.Post("http://"+addr+"/upload", "application/octet-stream", bytes.NewReader(make([]byte, 2<<20)))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// TestSpoolFailures: request bodies are spooled to files in $TMPDIR past
// 1 MiB. When the directory is gone (as unwritable: the tests may run as
// root, whom permissions do not stop) or the disk is full (a file size
// limit set on the running server: writes fail with EFBIG), a large body
// gets a clear 500, the log says why, small requests are served, and
// large ones are served again once the directory is back.
func TestSpoolFailures(t *testing.T) {
	tmp := filepath.Join(t.TempDir(), "tmp")
	if err := os.Mkdir(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	s, addr := serveApp(t, "app:app", []string{"TMPDIR=" + tmp}, "--workers", "1")
	c := client()
	check := func(want int, wantBody string) {
		t.Helper()
		code, body, err := postBig(c, addr)
		if err != nil {
			t.Fatalf("POST 2 MiB: %v", err)
		}
		if code != want || !strings.Contains(body, wantBody) {
			t.Errorf("POST 2 MiB: got %d %q; want %d %q", code, body, want, wantBody)
		}
		if code, _ := get(t, c, addr, "/small"); code != 200 {
			t.Errorf("small request: %d", code)
		}
	}
	check(200, fmt.Sprintf("ok %d", 2<<20))

	t.Run("unwritable", func(t *testing.T) {
		// The runtime's files live there too: move them away and back.
		aside := tmp + ".aside"
		if err := os.Rename(tmp, aside); err != nil {
			t.Fatal(err)
		}
		check(500, "500 Internal Server Error\nrequest id: ")
		s.WaitLine("cannot spool the request body", "no such file or directory", "request_id=")
		if err := os.Rename(aside, tmp); err != nil {
			t.Fatal(err)
		}
		check(200, "ok")
	})
	t.Run("full", func(t *testing.T) {
		prlimit, err := exec.LookPath("prlimit")
		if err != nil {
			t.Skip("no prlimit (util-linux)")
		}
		pid := fmt.Sprint(s.Pid())
		if out, err := exec.Command(prlimit, "--pid", pid, "--fsize=65536:unlimited").CombinedOutput(); err != nil {
			t.Fatalf("prlimit: %v %s", err, out)
		}
		check(500, "500 Internal Server Error\nrequest id: ")
		s.WaitLine("cannot spool the request body", "file too large", "request_id=")
		if out, err := exec.Command(prlimit, "--pid", pid, "--fsize=unlimited").CombinedOutput(); err != nil {
			t.Fatalf("prlimit: %v %s", err, out)
		}
		check(200, "ok")
		if entries, _ := os.ReadDir(tmp); len(entries) != 1 {
			t.Errorf("%s holds %d entries; want only the runtime (no spool file left behind)", tmp, len(entries))
		}
	})
	if s.Exited() {
		t.Fatal("gowsgi exited")
	}
}

// TestFewFileDescriptors: the server runs with RLIMIT_NOFILE 64 and 150
// clients each hold a keep-alive connection. Past the limit, accept fails
// (EMFILE): net/http logs it and retries, the waiting clients time out or
// are refused, the process stays up, and once the clients leave a new one
// is served at once.
func TestFewFileDescriptors(t *testing.T) {
	needPython(t)
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("no prlimit (util-linux)")
	}
	s := startServer(t, nil, []string{prlimit, "--nofile=64:64", "--"},
		"--python", debianPython, "--chdir", appsDir(t), "--bind", "127.0.0.1:0", "--workers", "2", "--threads", "2", "app:app")
	addr := s.Addr()

	const clients = 150
	var (
		mu      sync.Mutex
		conns   []net.Conn
		served  int
		refused = map[string]int{}
		wg      sync.WaitGroup
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
			if err != nil {
				mu.Lock()
				refused["dial: "+shortErr(err)]++
				mu.Unlock()
				return
			}
			conn.SetDeadline(time.Now().Add(3 * time.Second))
			fmt.Fprintf(conn, "GET /held HTTP/1.1\r\nHost: x\r\n\r\n")
			buf := make([]byte, 512)
			n, err := conn.Read(buf)
			mu.Lock()
			defer mu.Unlock()
			conns = append(conns, conn) // held open until the load drops
			if err != nil || !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 200")) {
				why := shortErr(fmt.Errorf("%q %v", buf[:min(n, 12)], err))
				refused[why]++
				return
			}
			served++
		}()
	}
	wg.Wait()
	t.Logf("%d clients: %d served, the others %v", clients, served, refused)
	if served == 0 || served == clients {
		t.Errorf("%d of %d served with 64 fds; want some but not all", served, clients)
	}
	s.WaitLine("too many open files")
	if s.Exited() {
		t.Fatal("gowsgi exited")
	}
	for _, c := range conns {
		c.Close()
	}
	start := time.Now()
	c := &http.Client{Timeout: 5 * time.Second}
	if !eventually(10*time.Second, func() bool {
		resp, err := c.Get("http://" + addr + "/after")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	}) {
		t.Fatal("not served again once the clients left")
	}
	t.Logf("served again %v after the clients left", time.Since(start).Round(time.Millisecond))
}
