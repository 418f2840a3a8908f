package pool

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/fakeworker"
	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/internal/worker"
)

// TestMaxRequestsReplacementFails: a worker at its Config.MaxRequests cap
// whose replacement cannot load the app (a deploy broke its import) serves
// on past the cap, with a warning, rather than leave its seat with none;
// whether the replacement fails before the cap is reached or after (when
// the worker had already been taken out of service). Once a replacement
// loads, it takes over. Fake workers of one thread ("loadonce": the first
// loads, the next fail), and Python workers (Debian's /usr/bin/python3) of
// four threads, testdata/loadonce.py.
func TestMaxRequestsReplacementFails(t *testing.T) {
	const maxRequests = 8 // the replacement starts at the 6th
	for _, tc := range []struct {
		failLate bool
		threads  int
	}{{false, 1}, {true, 1}, {false, 4}, {true, 4}} {
		failLate := tc.failLate
		name := map[bool]string{false: "fails before the cap", true: "fails after the cap"}[failLate]
		t.Run(fmt.Sprintf("%s, %d threads", name, tc.threads), func(t *testing.T) {
			dir := t.TempDir()
			once, failGate := filepath.Join(dir, "loaded"), filepath.Join(dir, "fail")
			wcfg := worker.Config{Python: os.Args[0], App: "loadonce", Threads: 1, Env: fakeworker.Env()}
			if tc.threads > 1 {
				wcfg = worker.Config{Python: python, App: "loadonce", Dir: "testdata", Threads: tc.threads, Env: os.Environ()}
			}
			wcfg.Env = append(wcfg.Env, "GOWSGI_FAKE_ONCE="+once)
			if failLate {
				wcfg.Env = append(wcfg.Env, "GOWSGI_FAKE_FAIL_AFTER="+failGate)
			}
			logs := new(proctest.Buffer)
			p := New(Config{
				Workers: 1, MaxRequests: maxRequests, MaxWait: 20 * time.Second,
				Logger: slog.New(slog.NewTextHandler(logs, nil)),
				Worker: wcfg,
			})
			t.Cleanup(func() { p.Close() })
			if err := p.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			first := p.Workers()[0]
			n := maxRequests - maxRequests/4
			if failLate {
				n = maxRequests // the worker is out of service now
			}
			for range n {
				exchange(t, p)
			}
			if failLate {
				// The next request waits for a worker: let the replacement fail.
				done := make(chan struct{})
				go func() {
					defer close(done)
					exchangeOn(t, p, func(*worker.Conn) {})
				}()
				os.WriteFile(failGate, nil, 0o644)
				<-done
			} else {
				proctest.Eventually(t, 10*time.Second, "the replacement to fail", func() bool {
					return strings.Contains(logs.String(), "replacement worker cannot load the app")
				})
			}
			for range 2 * maxRequests {
				exchange(t, p)
			}
			// Every thread is back in service: all take a request at once.
			var held []*worker.Exchange
			for range tc.threads {
				ex := request()
				if _, err := p.Acquire(context.Background(), ex); err != nil {
					t.Fatalf("with %d requests in flight: %v", len(held), err)
				}
				held = append(held, ex)
			}
			for _, ex := range held {
				c := ex.Conn()
				drain(t, ex)
				p.Release(c)
			}
			if got := p.Workers()[0]; got != first || first.Served.Load() <= maxRequests {
				t.Errorf("worker %v served %d; want the first (%v) past its cap of %d", got, first.Served.Load(), first, maxRequests)
			}
			if !strings.Contains(logs.String(), "serves past its max requests") {
				t.Errorf("no warning in the log:\n%s", logs)
			}
			// The deploy is fixed: the next try loads, and takes over.
			os.Remove(once)
			proctest.Eventually(t, 20*time.Second, "the replacement to take over", func() bool {
				return p.Workers()[0] != first
			})
			<-first.Done()
			exchange(t, p)
		})
	}
}
