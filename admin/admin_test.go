package admin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/accesslog"
	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/wsgi"
)

func get(t *testing.T, h http.Handler, path string) (int, string, http.Header) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
	return w.Code, w.Body.String(), w.Header()
}

// fakeStats is a container with two workers, one busy on two threads of
// four, one starting, with a queue and restarts.
func fakeStats() wsgi.Stats {
	return wsgi.Stats{
		Waiting:  3,
		Restarts: map[string]int64{"died": 2, "memory": 1},
		Backoff:  1600 * time.Millisecond,
		Workers: []wsgi.WorkerStats{
			{ID: 0, PID: 100, State: "ready", Threads: 4, Served: 10, RSS: 30 << 20, Uptime: time.Hour,
				Requests: []wsgi.RequestStats{{Thread: 0, What: "GET /slow?<x>", Age: 1500 * time.Millisecond}, {Thread: 2, What: "POST /a", Age: time.Second}}},
			{ID: 1, PID: 101, State: "starting", Threads: 4, Uptime: time.Second},
		},
	}
}

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	m.Observe("GET", 200, 3*time.Millisecond)
	m.Observe("GET", 204, 30*time.Millisecond)
	m.Observe("POST", 503, 2*time.Second)
	m.Observe("BREW", 418, 20*time.Second)
	h := New(Config{Stats: fakeStats, Metrics: m})
	code, body, hdr := get(t, h, "/metrics")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("/metrics: %d %q", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{
		`gowsgi_http_requests_total{method="GET",code="2xx"} 2`,
		`gowsgi_http_requests_total{method="POST",code="5xx"} 1`,
		`gowsgi_http_requests_total{method="other",code="4xx"} 1`,
		`gowsgi_http_request_duration_seconds_bucket{le="0.005"} 1`,
		`gowsgi_http_request_duration_seconds_bucket{le="0.025"} 1`,
		`gowsgi_http_request_duration_seconds_bucket{le="0.05"} 2`,
		`gowsgi_http_request_duration_seconds_bucket{le="2.5"} 3`,
		`gowsgi_http_request_duration_seconds_bucket{le="10"} 3`,
		`gowsgi_http_request_duration_seconds_bucket{le="+Inf"} 4`,
		`gowsgi_http_request_duration_seconds_sum 22.033`,
		`gowsgi_http_request_duration_seconds_count 4`,
		`gowsgi_queue_depth 3`,
		`gowsgi_worker_threads{state="busy"} 2`,
		`gowsgi_worker_threads{state="idle"} 2`,
		`gowsgi_workers{state="ready"} 1`,
		`gowsgi_workers{state="starting"} 1`,
		`gowsgi_workers{state="exited"} 0`,
		`gowsgi_worker_restarts_total{reason="died"} 2`,
		`gowsgi_worker_restarts_total{reason="memory"} 1`,
		`gowsgi_worker_restarts_total{reason="reload"} 0`,
		`gowsgi_worker_backoff_seconds 1.6`,
		`gowsgi_worker_resident_memory_bytes{worker="0"} 3.145728e+07`,
		`gowsgi_ready 1`,
		"# TYPE gowsgi_http_request_duration_seconds histogram",
		"# TYPE gowsgi_worker_restarts_total counter",
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	checkExposition(t, body)
}

// checkExposition checks each line's syntax: comments, or a metric name,
// maybe labels, and a number; each family's samples follow its TYPE.
var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (\S+)$`)

func checkExposition(t *testing.T, body string) {
	t.Helper()
	family := ""
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			family, _, _ = strings.Cut(rest, " ")
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("bad exposition line %q", line)
			continue
		}
		if !strings.HasPrefix(m[1], family) {
			t.Errorf("sample %q outside its family %q", line, family)
		}
	}
}

func TestEscapeLabel(t *testing.T) {
	if got, want := escapeLabel("a\"b\\c\nd"), `a\"b\\c\nd`; got != want {
		t.Errorf("escapeLabel = %q; want %q", got, want)
	}
}

func TestEndpoints(t *testing.T) {
	var ready atomic.Bool
	h := New(Config{Stats: fakeStats, Ready: ready.Load, Title: "mysite <prod>"})
	cases := []struct {
		ready bool
		path  string
		code  int
		want  []string
	}{
		{false, "/healthz", 200, []string{"ok"}},
		{false, "/readyz", 503, []string{"not ready"}},
		{false, "/metrics", 200, []string{"gowsgi_ready 0\n"}},
		{true, "/readyz", 200, []string{"ready"}},
		{true, "/metrics", 200, []string{"gowsgi_ready 1\n"}},
		{true, "/", 200, []string{"<title>mysite &lt;prod&gt; status</title>", "Ready", "GET /slow?&lt;x&gt;", "1.5s", "POST /a",
			"30.0 MiB", "1h00m", "starting", "<td>died</td><td class=\"n\">2</td>", "3 requests waiting",
			// Reloads without the script; the charts shown by it.
			`<noscript><meta http-equiv="refresh" content="5"></noscript>`, `<section id="charts" hidden>`,
			`fetch("status.json?after=" + seq`}},
		{false, "/", 200, []string{"Not ready"}},
		{true, "/nope", 404, nil},
	}
	for _, tc := range cases {
		ready.Store(tc.ready)
		code, body, _ := get(t, h, tc.path)
		if code != tc.code {
			t.Errorf("ready=%v GET %s: %d; want %d", tc.ready, tc.path, code, tc.code)
		}
		for _, want := range tc.want {
			if !strings.Contains(body, want) {
				t.Errorf("ready=%v GET %s: body lacks %q:\n%s", tc.ready, tc.path, want, body)
			}
		}
	}
	// No stats, no metrics: the page and the exposition still work.
	h = New(Config{})
	if code, body, _ := get(t, h, "/"); code != 200 || !strings.Contains(body, "No workers.") {
		t.Errorf("empty status page: %d %q", code, body)
	}
	if code, body, _ := get(t, h, "/metrics"); code != 200 || strings.Contains(body, "requests_total{") {
		t.Errorf("empty /metrics: %d %q", code, body)
	}
}

func TestAge(t *testing.T) {
	cases := []struct {
		d    time.Duration
		want string
	}{
		{850 * time.Millisecond, "850ms"}, {12300 * time.Millisecond, "12.3s"}, {245 * time.Second, "4m05s"},
		{3*time.Hour + 12*time.Minute, "3h12m"}, {52 * time.Hour, "2d4h"},
	}
	for _, tc := range cases {
		if got := age(tc.d); got != tc.want {
			t.Errorf("age(%v) = %q; want %q", tc.d, got, tc.want)
		}
	}
}

// TestRealContainer serves real requests through the access log
// middleware into a container and scrapes /metrics: the counters moved,
// and a request held in the app shows as a busy thread and on the page.
func TestRealContainer(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no %s", python)
	}
	sync := t.TempDir()
	c, err := wsgi.NewContainer(wsgi.Config{App: "app:application", Python: python, Dir: "testdata", Workers: 1, Threads: 2,
		Env: []string{"SYNC_DIR=" + sync}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	m := NewMetrics()
	app := httptest.NewServer(accesslog.New(accesslog.Config{Observe: func(r *accesslog.Record) {
		m.Observe(r.Method, r.Status, r.Duration)
	}}, c))
	t.Cleanup(app.Close)
	h := New(Config{Stats: c.Stats, Metrics: m})

	for _, path := range []string{"/", "/a", "/missing"} {
		resp, err := http.Get(app.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	held := make(chan error, 1)
	go func() {
		resp, err := http.Get(app.URL + "/hold")
		if err == nil {
			resp.Body.Close()
		}
		held <- err
	}()
	proctest.Eventually(t, 20*time.Second, "/hold to start", func() bool {
		_, err := os.Stat(filepath.Join(sync, "started"))
		return err == nil
	})
	_, body, _ := get(t, h, "/metrics")
	for _, want := range []string{
		`gowsgi_http_requests_total{method="GET",code="2xx"} 2`,
		`gowsgi_http_requests_total{method="GET",code="4xx"} 1`,
		`gowsgi_http_request_duration_seconds_count 3`,
		`gowsgi_worker_threads{state="busy"} 1`,
		`gowsgi_worker_threads{state="idle"} 1`,
		`gowsgi_workers{state="ready"} 1`,
		`gowsgi_queue_depth 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if !regexp.MustCompile(`gowsgi_worker_resident_memory_bytes\{worker="0"\} [1-9]`).MatchString(body) {
		t.Errorf("/metrics has no RSS for worker 0:\n%s", body)
	}
	checkExposition(t, body)
	if _, page, _ := get(t, h, "/"); !strings.Contains(page, "GET /hold") {
		t.Errorf("the status page does not show GET /hold in flight:\n%s", page)
	}
	os.WriteFile(filepath.Join(sync, "release"), nil, 0o644)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	if _, body, _ := get(t, h, "/metrics"); !strings.Contains(body, `gowsgi_http_requests_total{method="GET",code="2xx"} 3`+"\n") {
		t.Errorf("after /hold, /metrics:\n%s", body)
	}
}

// TestBodyMetrics: /metrics gives the request bodies' budgets from
// Stats().Bodies: bytes in use and limit by store (+Inf for none), the
// bodies spooled for want of memory, the refusals by budget.
func TestBodyMetrics(t *testing.T) {
	stats := func() wsgi.Stats {
		st := fakeStats()
		st.Bodies = wsgi.BodyStats{MemoryUsed: 3 << 20, MemoryLimit: 64 << 20, SpoolUsed: 5 << 30, SpoolLimit: -1,
			MemoryFull: 7, Refused: map[string]int64{"spool": 2}}
		return st
	}
	_, body, _ := get(t, New(Config{Stats: fakeStats}), "/metrics")
	if strings.Contains(body, "gowsgi_request_body") {
		t.Errorf("/metrics of a container that holds no bodies (limits 0, as asgi's) has body metrics:\n%s", body)
	}
	_, body, _ = get(t, New(Config{Stats: stats}), "/metrics")
	for _, want := range []string{
		`gowsgi_request_body_bytes{store="memory"} 3.145728e+06` + "\n",
		`gowsgi_request_body_bytes{store="spool"} 5.36870912e+09` + "\n",
		`gowsgi_request_body_limit_bytes{store="memory"} 6.7108864e+07` + "\n",
		`gowsgi_request_body_limit_bytes{store="spool"} +Inf` + "\n",
		"gowsgi_request_body_memory_full_total 7\n",
		`gowsgi_request_body_refusals_total{budget="spool"} 2` + "\n",
		"# TYPE gowsgi_request_body_refusals_total counter\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
