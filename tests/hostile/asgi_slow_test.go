package hostile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// asgiProgress asks asgiapp's /progress how far /big got: the bytes its
// send() calls returned for, and whether it ended (and how).
func asgiProgress(t *testing.T, c *http.Client, addr string) (sent int64, state, why string) {
	t.Helper()
	code, body := get(t, c, addr, "/progress")
	f := strings.Fields(body)
	if code != 200 || len(f) != 3 {
		t.Fatalf("/progress: %d %q", code, body)
	}
	sent, _ = strconv.ParseInt(f[0], 10, 64)
	return sent, f[1], f[2]
}

// TestASGISlowReader: a client asks for a 200 MiB streamed response and
// stops reading after its head. The app's send() blocks: it gets no
// further than the window, the socket buffers and a few pieces, well short
// of the response; the Go process's RSS stays under 100 MiB; the worker's
// loop serves other requests meanwhile (/progress is answered by it). Then
// the client either reads the rest (all 200 MiB arrive, and send()
// returns for each) or leaves (send() raises ClientDisconnected, an
// OSError, in the app).
func TestASGISlowReader(t *testing.T) {
	const size = 200 << 20
	const bound = 100 << 20
	s, addr := serveASGI(t, "app", nil, "--workers", "1")
	c := client()
	for _, leave := range []bool{false, true} {
		t.Run(map[bool]string{false: "reads-later", true: "leaves"}[leave], func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", addr, timeout)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(timeout))
			fmt.Fprintf(conn, "GET /big?%d HTTP/1.1\r\nHost: x\r\n\r\n", size)
			br := bufio.NewReaderSize(conn, 4096)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			// The client stalls. The app's progress stops growing: it
			// is the same on ten polls in a row.
			var sent int64
			same := 0
			if !eventually(timeout, func() bool {
				now, _, _ := asgiProgress(t, c, addr)
				if now == sent && now > 0 {
					same++
				} else {
					same = 0
				}
				sent = now
				return same == 10
			}) {
				t.Fatalf("the app's send() never stopped: %d bytes sent", sent)
			}
			rss := procStatus(s.Pid(), "VmRSS")
			t.Logf("stalled: the app's send() returned for %d MiB of %d MiB; gowsgi's RSS %d MiB",
				sent>>20, size>>20, rss>>20)
			if sent >= size/4 {
				t.Errorf("the app sent %d MiB to a client that reads nothing; want it held by the window", sent>>20)
			}
			if rss <= 0 || rss > bound {
				t.Errorf("gowsgi's RSS is %d MiB with a stalled %d MiB response; want under %d MiB", rss>>20, size>>20, bound>>20)
			}
			if leave {
				conn.Close()
				if !eventually(timeout, func() bool { _, state, _ := asgiProgress(t, c, addr); return state == "done" }) {
					t.Fatal("the app's send() did not end once the client left")
				}
				if _, _, why := asgiProgress(t, c, addr); why != "ClientDisconnected" {
					t.Errorf("the app's send() ended with %q once the client left; want ClientDisconnected", why)
				}
				return
			}
			n, err := io.Copy(io.Discard, resp.Body)
			if err != nil || n != size {
				t.Fatalf("read %d bytes, %v; want %d", n, err, size)
			}
			if !eventually(timeout, func() bool { _, state, _ := asgiProgress(t, c, addr); return state == "done" }) {
				t.Fatal("the app did not finish")
			}
			if sent, _, why := asgiProgress(t, c, addr); sent != size || why != "-" {
				t.Errorf("the app: %d bytes sent, %q; want %d, no error", sent, why, size)
			}
			if hwm := procStatus(s.Pid(), "VmHWM"); hwm > bound {
				t.Errorf("gowsgi's peak RSS %d MiB for a %d MiB response; want under %d MiB", hwm>>20, size>>20, bound>>20)
			}
		})
	}
}

// TestASGIIdleAndSlowUploads: 2,000 idle keep-alive connections and 50
// uploads trickled (3 bytes of a 100-byte body, then a stall, within
// --header-timeout 60s) on one ASGI worker whose --max-streams is 20: the
// idle connections hold no stream, and the stalled uploads none either
// (a body's first 64 KiB, or all of it, is read before its stream opens),
// so 200 normal requests from 8 clients meanwhile are all served: none
// waits past --queue-timeout 2s for a stream held by a stalled upload,
// which would be a 503.
func TestASGIIdleAndSlowUploads(t *testing.T) {
	const idlers, uploads = 2000, 50
	raiseFileLimit(t, 2*(idlers+uploads)+1000)
	s, addr := serveASGI(t, "app", nil, "--workers", "1", "--max-streams", "20", "--header-timeout", "60s", "--queue-timeout", "2s")

	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 50)
	)
	t.Cleanup(func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	keep := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	for range idlers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			conn, err := net.DialTimeout("tcp", addr, timeout)
			if err != nil {
				t.Errorf("idle: %v", err)
				return
			}
			keep(conn)
			conn.SetDeadline(time.Now().Add(timeout))
			fmt.Fprintf(conn, "GET /idle HTTP/1.1\r\nHost: x\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if err != nil || resp.StatusCode != 200 {
				t.Errorf("idle connection's first request: %v", err)
			}
		}()
	}
	wg.Wait()
	for range uploads {
		conn, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			t.Fatalf("upload: %v", err)
		}
		keep(conn)
		fmt.Fprintf(conn, "POST /slow-upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n012")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := new(loadStats)
	var lw sync.WaitGroup
	for range 8 {
		lw.Add(1)
		go func() {
			defer lw.Done()
			c := client()
			for range 25 {
				loadOne(ctx, c, "http://"+addr+"/normal", st)
			}
		}()
	}
	lw.Wait()
	t.Logf("with %d idle connections and %d stalled uploads: %v", idlers, uploads, st)
	if st.failures() > 0 || st.ok.Load() != 200 {
		t.Errorf("normal requests: %v; want 200 ok", st)
	}
	if c := s.Count("path=/slow-upload"); c > 0 {
		t.Errorf("%d log lines about the stalled uploads", c)
	}
}
