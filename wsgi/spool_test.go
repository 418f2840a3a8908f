package wsgi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestSpoolBudget: the bodies spooled to disk take at most
// Config.MaxSpoolBytes together. Two uploads that stall part way hold only
// what they sent; a third that needs more than is left gets 503 with
// Retry-After through the funnel (ErrOverloaded) and its connection
// closed, whether its length is declared or not, and leaves no file; once
// the stalled ones give up the budget is whole and the disk empty. Runs no
// worker (the interpreter is /usr/bin/python3, only looked up).
func TestSpoolBudget(t *testing.T) {
	const budget, sent = 300 << 10, 100 << 10
	for _, chunked := range []bool{false, true} {
		t.Run(map[bool]string{false: "declared", true: "chunked"}[chunked], func(t *testing.T) {
			// The stalled bodies' 400s come from their goroutines.
			refused := make(chan error, 1)
			c := spoolContainer(t, Config{MaxMemoryBody: NoLimit, MaxSpoolBytes: budget,
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
					if errors.Is(err, ErrOverloaded) {
						refused <- err
					}
					DefaultErrorHandler(w, r, err)
				}})
			c.funnel = c.cfg.newFunnel()
			var stalled []*io.PipeWriter
			done := make(chan bool, 2)
			for range 2 {
				pr, pw := io.Pipe()
				stalled = append(stalled, pw)
				r := httptest.NewRequest("POST", "/", pr)
				r.ContentLength = 1 << 20
				go func() {
					b, ok := c.readBody(httptest.NewRecorder(), r)
					b.release()
					done <- ok
				}()
				pw.Write(make([]byte, sent))
			}
			proctest.Eventually(t, 5*time.Second, "the stalled bodies to be spooled", func() bool {
				return c.spool.used.Load() == 2*sent
			})

			var src io.Reader = bytes.NewReader(make([]byte, budget-2*sent+1))
			if chunked {
				src = io.MultiReader(src)
			}
			r := httptest.NewRequest("POST", "/", src)
			w := httptest.NewRecorder()
			if b, ok := c.readBody(w, r); ok {
				b.release()
				t.Fatalf("a body past the spool budget was read (%d bytes used of %d)", c.spool.used.Load(), budget)
			}
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
				w.Header().Get("Connection") != "close" {
				t.Errorf("status %d, Retry-After %q, Connection %q; want 503, a Retry-After, close",
					w.Code, w.Header().Get("Retry-After"), w.Header().Get("Connection"))
			}
			select {
			case <-refused:
			default:
				t.Error("ErrorHandler got no ErrOverloaded")
			}
			if used, refused := c.spool.used.Load(), c.spool.refused.Load(); used != 2*sent || refused != 1 {
				t.Errorf("after the refusal: %d bytes used, %d refused; want %d, 1", used, refused, 2*sent)
			}

			for _, pw := range stalled {
				pw.CloseWithError(io.ErrUnexpectedEOF)
			}
			for range stalled {
				if <-done {
					t.Error("a body cut short was read")
				}
			}
			if used := c.spool.used.Load(); used != 0 {
				t.Errorf("%d bytes of spool budget used once every body is released", used)
			}
			if files, _ := filepath.Glob(filepath.Join(c.cfg.SpoolDir, "*")); len(files) > 0 {
				t.Errorf("files left: %v", files)
			}
		})
	}
}

// TestSpoolBudgetDefault: MaxSpoolBytes 0 is 4 GiB, or MaxRequestBody if
// larger; NoLimit is none.
func TestSpoolBudgetDefault(t *testing.T) {
	cases := []struct{ body, spool, want int64 }{
		{0, 0, 4 << 30},
		{8 << 30, 0, 8 << 30},
		{NoLimit, 0, 4 << 30},
		{0, 1 << 20, 1 << 20},
		{0, NoLimit, NoLimit},
	}
	for _, tc := range cases {
		c := spoolContainer(t, Config{MaxRequestBody: tc.body, MaxSpoolBytes: tc.spool})
		if c.spool.limit != tc.want {
			t.Errorf("MaxRequestBody %d, MaxSpoolBytes %d: spool limit %d; want %d", tc.body, tc.spool, c.spool.limit, tc.want)
		}
	}
}

// TestBodyStats: Stats().Bodies gives the bytes each budget has in use and
// its limit, the bodies spooled for want of memory budget, and the
// requests refused for want of spool budget.
func TestBodyStats(t *testing.T) {
	const memBudget, spoolBudget = 64 << 10, 100 << 10
	c := spoolContainer(t, Config{MaxMemoryBodies: memBudget, MaxSpoolBytes: spoolBudget})
	read := func(n int) (requestBody, bool) {
		return c.readBody(httptest.NewRecorder(), httptest.NewRequest("POST", "/", bytes.NewReader(make([]byte, n))))
	}
	held, _ := read(1000) // in memory, in a buffer of its length
	defer held.release()
	c.bodies.reserve(memBudget - 1000)
	spooled, _ := read(1000) // no room in memory: spooled
	defer spooled.release()
	if _, ok := read(spoolBudget); ok { // no room in memory either
		t.Fatal("a body past the spool budget was read")
	}
	want := BodyStats{MemoryUsed: memBudget, MemoryLimit: memBudget, SpoolUsed: 1000, SpoolLimit: spoolBudget,
		MemoryFull: 2, Refused: map[string]int64{"spool": 1}}
	got := c.Stats().Bodies
	if got.MemoryUsed != want.MemoryUsed || got.MemoryLimit != want.MemoryLimit || got.SpoolUsed != want.SpoolUsed ||
		got.SpoolLimit != want.SpoolLimit || got.MemoryFull != want.MemoryFull || got.Refused["spool"] != 1 ||
		len(got.Refused) != 1 {
		t.Errorf("Stats().Bodies = %+v; want %+v", got, want)
	}
}

// TestSpoolDirChecked: a SpoolDir that is missing or not a directory is
// NewContainer's error, naming it.
func TestSpoolDirChecked(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, "x")
	for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), file} {
		_, err := NewContainer(Config{App: "app", Python: debianPython, SpoolDir: dir})
		if err == nil || !strings.Contains(err.Error(), "Config.SpoolDir") || !strings.Contains(err.Error(), dir) {
			t.Errorf("SpoolDir %q: %v; want an error naming it", dir, err)
		}
	}
	if _, err := NewContainer(Config{App: "app", Python: debianPython, SpoolDir: t.TempDir()}); err != nil {
		t.Errorf("SpoolDir a directory: %v", err)
	}
}

// TestSpoolBudgetServed: through a started Container and a real client
// (Debian's /usr/bin/python3, pep:read_body), a spooled upload within
// MaxSpoolBytes reaches the app whole, one past it gets 503 with
// Retry-After and the connection closed, and the next within it is served
// again: the refused one's bytes are back.
func TestSpoolBudgetServed(t *testing.T) {
	const budget = 64 << 10
	ts := startApp(t, Config{App: "pep:read_body", Workers: 1, MaxMemoryBody: NoLimit, MaxSpoolBytes: budget})
	post := func(n int) (*http.Response, string) {
		req, err := http.NewRequest("POST", ts.URL+"/", bytes.NewReader(make([]byte, n)))
		if err != nil {
			t.Fatal(err)
		}
		return ts.do(t, req)
	}
	for _, tc := range []struct {
		size   int
		status int
	}{{budget, 200}, {budget + 1, 503}, {budget / 2, 200}} {
		resp, body := post(tc.size)
		if resp.StatusCode != tc.status {
			t.Fatalf("POST of %d bytes: %d %q; want %d", tc.size, resp.StatusCode, body, tc.status)
		}
		if tc.status == 200 && !strings.Contains(body, fmt.Sprintf(`"size": %d,`, tc.size)) {
			t.Errorf("POST of %d bytes: the app read %s", tc.size, body)
		}
		if tc.status == 503 && (resp.Header.Get("Retry-After") == "" || !resp.Close) {
			t.Errorf("503: Retry-After %q, close %v; want both", resp.Header.Get("Retry-After"), resp.Close)
		}
	}
	if used := ts.c.Stats().Bodies.SpoolUsed; used != 0 {
		t.Errorf("%d bytes of spool budget used after the requests", used)
	}
}
