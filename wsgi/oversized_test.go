package wsgi

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestOversizedResponse: a status line, headers or traceback too large for
// the channel's structured frames (frame.MaxMeta) is the request's error,
// refused by the worker itself: the client gets a 500, the log the
// traceback, and the worker, with the request it serves meanwhile on
// another thread, lives on. Uses Debian's /usr/bin/python3.
// With preload, a forked worker has the limit from its zygote.
func TestOversizedResponse(t *testing.T) {
	for _, preload := range []bool{false, true} {
		t.Run(fmt.Sprintf("preload=%v", preload), func(t *testing.T) {
			testOversized(t, Config{App: "oversized:dispatch", Workers: 1, Threads: 4, Preload: preload})
		})
	}
}

func testOversized(t *testing.T, cfg Config) {
	ts := startApp(t, cfg)
	_, before := ts.get(t, "/pid")

	slow := make(chan string, 1)
	go func() {
		resp, err := ts.Client().Get(ts.URL + "/slow")
		if err != nil {
			slow <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			slow <- resp.Status + " " + err.Error()
			return
		}
		slow <- resp.Status + " " + string(b)
	}()
	ts.logs.await(t, "slow request started")

	for _, tc := range []struct{ path, log string }{
		{"/big_header", "response headers of 1048" /* and more */},
		{"/big_status", "response headers of 2097"},
		{"/big_exception", "big-exception-tail"},
	} {
		resp, body := ts.get(t, tc.path)
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("GET %s: %s %q; want 500", tc.path, resp.Status, clip(body))
		}
		ts.logs.await(t, "path="+tc.path, tc.log)
	}
	ts.logs.await(t, "exceed the 1048576-byte limit", "big-exception-head", "[truncated: this text of ")

	_, after := ts.get(t, "/release")
	got := <-slow
	if !strings.HasPrefix(got, "200 OK released=True ") {
		t.Errorf("the slow request on the same worker got %q; want 200 released=True", got)
	}
	pid := strings.TrimSpace(before)
	if pid != strings.TrimSpace(after) || !strings.Contains(got, pid) {
		t.Errorf("worker %s before, %s after, slow request %q: want one worker throughout", pid, strings.TrimSpace(after), got)
	}
}
