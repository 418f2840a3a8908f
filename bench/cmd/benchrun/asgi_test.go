package main

import (
	"strings"
	"testing"
	"time"
)

func TestPerSocket(t *testing.T) {
	before := treeMem{top: procMem{rss: 10 << 20}, children: []procMem{{rss: 20 << 20}}}
	after := treeMem{top: procMem{rss: 10<<20 + 400<<10}, children: []procMem{{rss: 20<<20 + 100<<10}}}
	if got, want := perSocket(before, after, 10, "Go"), "per socket +50KB, Go +40KB"; got != want {
		t.Errorf("perSocket = %q, want %q", got, want)
	}
	if got := perSocket(before, after, 0, "Go"); got != "" {
		t.Errorf("perSocket of no sockets = %q, want nothing", got)
	}
}

func TestParseStatus(t *testing.T) {
	status := "Name:\tpython3\nState:\tS (sleeping)\nVmPeak:\t  99999 kB\nVmRSS:\t   40960 kB\nRssAnon:\t  1 kB\nThreads:\t3\n"
	for _, tt := range []struct {
		name, text string
		want       procMem
	}{
		{"both", status, procMem{rss: 40 << 20, threads: 3}},
		{"kernel thread, no VmRSS", "Name:\tkthreadd\nThreads:\t1\n", procMem{threads: 1}},
		{"empty", "", procMem{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseStatus([]byte(tt.text)); got != tt.want {
				t.Errorf("parseStatus = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestTreeMemDescribe(t *testing.T) {
	m := treeMem{top: procMem{rss: 80 << 20, threads: 9},
		children: []procMem{{rss: 30 << 20, threads: 1}, {rss: 31 << 20, threads: 2}}}
	if got, want := m.describe("Go"), "Go 80MB 9 threads; children 30MB 1 thread + 31MB 2 threads"; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
	if got := m.total(); got != 141<<20 {
		t.Errorf("total = %d, want %d", got, 141<<20)
	}
	if got, want := (treeMem{top: procMem{rss: 50 << 20, threads: 1}}).describe("top"), "top 50MB 1 thread"; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
}

// TestSelection: an app's kind picks its servers, a scenario's list its
// apps, and the kept-apart apps (memory, WebSocket) only their own.
func TestSelection(t *testing.T) {
	byName := map[string]app{}
	for _, a := range apps {
		byName[a.name] = a
	}
	runs := func(srvName string, srvASGI bool, scen, appName string) bool {
		a, ok := byName[appName]
		if !ok {
			t.Fatalf("no app %s", appName)
		}
		var sc *scenario
		for _, s := range scenarios(10000) {
			if s.name == scen {
				sc = &s
			}
		}
		if sc == nil {
			t.Fatalf("no scenario %s", scen)
		}
		for _, srv := range servers() {
			if srv.name == srvName && srv.asgi == srvASGI {
				return sc.applies(a) && srv.runs(a)
			}
		}
		t.Fatalf("no server %s (asgi %v)", srvName, srvASGI)
		return false
	}
	for _, tt := range []struct {
		server string
		asgi   bool
		scen   string
		app    string
		want   bool
	}{
		{"gunicorn", false, "keepalive", "hello", true},
		{"gunicorn", false, "keepalive", "asgihello", false},
		{"gowsgi", false, "keepalive", "asgihello", false},
		{"gowsgi", true, "keepalive", "asgihello", true},
		{"gowsgi", true, "keepalive", "hello", false},
		{"gowsgi-thr", false, "keepalive", "fastapi", false},
		{"go-native", false, "keepalive", "asgihello", true},
		{"go-native", false, "ws-idle", "wsecho", true},
		{"uvicorn", true, "keepalive", "asgihello", true},
		{"uvicorn", true, "keepalive", "fastapi", true},
		{"uvicorn", true, "keepalive", "hello", false},
		{"uvicorn", true, "keepalive", "wsecho", false},
		{"uvicorn", true, "ws", "wsecho", true},
		{"daphne", true, "ws-idle", "wsecho", true},
		{"uvicorn", true, "ws", "asgihello", false},
		{"hypercorn", true, "h2", "asgihello", true},
		{"uvicorn", true, "h2", "fastapi", false},
		{"gowsgi", false, "h2", "hello", true},
		{"gowsgi", false, "mem", "big", true},
		{"gowsgi-thr", false, "mem", "big", false},
		{"gowsgi", false, "keepalive", "big", false},
	} {
		if got := runs(tt.server, tt.asgi, tt.scen, tt.app); got != tt.want {
			t.Errorf("%s (asgi %v) × %s × %s runs: %v, want %v", tt.server, tt.asgi, tt.scen, tt.app, got, tt.want)
		}
	}
}

func TestBaseFor(t *testing.T) {
	for _, tt := range []struct {
		name, base, wsgiBase, asgiNo string
		wantWSGI, wantASGI           string
	}{
		{"gowsgi serves ASGI", "gowsgi", "gowsgi", "", "gowsgi", "gowsgi"},
		{"gowsgi without ASGI", "gowsgi", "gowsgi", "no --interface", "gowsgi", "uvicorn"},
		{"no gowsgi", "gowsgi", "gunicorn", "no build", "gunicorn", "uvicorn"},
		{"a WSGI base", "gunicorn", "gunicorn", "", "gunicorn", "uvicorn"},
		{"an ASGI base", "hypercorn", "hypercorn", "", "hypercorn", "hypercorn"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := &runEnv{asgi: asgiEnv{gowsgiNo: tt.asgiNo}}
			f := baseFor(env, tt.base, tt.wsgiBase)
			if got := f("hello"); got != tt.wantWSGI {
				t.Errorf("hello's base %s, want %s", got, tt.wantWSGI)
			}
			if got := f("fastapi"); got != tt.wantASGI {
				t.Errorf("fastapi's base %s, want %s", got, tt.wantASGI)
			}
		})
	}
}

func TestRenderASGI(t *testing.T) {
	cells := []cell{
		{server: "gowsgi", app: "wsecho", scenario: "ws", failed: "this gowsgi has no --interface flag", na: true},
		{server: "uvicorn", app: "wsecho", scenario: "ws", rps: 20000, p50: time.Millisecond, p99: 4 * time.Millisecond, conns: 64},
		{server: "hypercorn", app: "wsecho", scenario: "ws", rps: 30000, p50: time.Millisecond, p99: 2 * time.Millisecond, conns: 64},
		{server: "daphne", app: "wsecho", scenario: "ws", failed: "no echo on any of 64 WebSockets"},
	}
	out := render(cells, func(string) string { return "uvicorn" }, nil)
	for _, w := range []string{"| msg/s |", "not available: this gowsgi has no --interface flag", "FAILED: no echo", "1.50"} {
		if !strings.Contains(out, w) {
			t.Errorf("table lacks %q:\n%s", w, out)
		}
	}
}

func TestASGITargets(t *testing.T) {
	mem := func(goMB int64, threads int) *treeMem {
		return &treeMem{top: procMem{rss: goMB * mb, threads: 8},
			children: []procMem{{rss: 40 * mb, threads: threads}, {rss: 41 * mb, threads: 2}}}
	}
	for _, tt := range []struct {
		name  string
		cells []cell
		goal  string
		want  []string
	}{
		{"ASGI hello met", []cell{
			{server: "gowsgi", app: "asgihello", scenario: "keepalive", rps: 26000},
			{server: "uvicorn", app: "asgihello", scenario: "keepalive", rps: 20000},
			{server: "hypercorn", app: "asgihello", scenario: "keepalive", rps: 40000}, // not the yardstick
		}, "ASGI hello", []string{" met |", "1.30× (gowsgi 26000 ÷ uvicorn 20000 req/s)"}},
		{"FastAPI without gowsgi", []cell{
			{server: "gowsgi", app: "fastapi", scenario: "keepalive", failed: "no --interface", na: true},
			{server: "uvicorn", app: "fastapi", scenario: "keepalive", rps: 9000},
		}, "FastAPI JSON", []string{"not measured", "no gowsgi figure"}},
		{"FastAPI not in the run", []cell{{server: "uvicorn", app: "asgihello", scenario: "keepalive", rps: 9000}},
			"FastAPI JSON", []string{"not measured", "not in this run"}},
		{"echo missed", []cell{
			{server: "gowsgi", app: "wsecho", scenario: "ws", rps: 22000},
			{server: "uvicorn", app: "wsecho", scenario: "ws", rps: 20000},
		}, "WebSocket echo", []string{"MISSED", "1.10× (gowsgi 22000 ÷ uvicorn 20000 msg/s)"}},
		{"idle met", []cell{{server: "gowsgi", app: "wsecho", scenario: "ws-idle", conns: 10000, mem: mem(150, 1)}},
			"10,000 idle", []string{" met |", "Go 150MB 8 threads; children 40MB 1 thread + 41MB 2 threads"}},
		{"idle: Go too big", []cell{{server: "gowsgi", app: "wsecho", scenario: "ws-idle", conns: 10000, mem: mem(210, 1)},
			{server: "go-native", app: "wsecho", scenario: "ws-idle", conns: 10000, mem: &treeMem{top: procMem{rss: 120 * mb}}}},
			"10,000 idle", []string{"MISSED", "Go 210MB", "go-native holds them in 120MB"}},
		{"idle: a thread per socket", []cell{{server: "gowsgi", app: "wsecho", scenario: "ws-idle", conns: 10000, mem: mem(100, 5001)}},
			"10,000 idle", []string{"MISSED", "5001 threads"}},
		{"idle: sockets lost", []cell{{server: "gowsgi", app: "wsecho", scenario: "ws-idle", conns: 10000, starved: 3, mem: mem(100, 1)}},
			"10,000 idle", []string{"MISSED", "3 of 10000 sockets did not echo"}},
		{"idle: a short run", []cell{{server: "gowsgi", app: "wsecho", scenario: "ws-idle", conns: 1000, mem: mem(100, 1)}},
			"10,000 idle", []string{"not measured", "only 1000 sockets"}},
		{"h2 met", []cell{
			{server: "gowsgi", app: "asgihello", scenario: "h2", rps: 30000},
			{server: "uvicorn", app: "asgihello", scenario: "h2", failed: "no HTTP/2"},
			{server: "hypercorn", app: "asgihello", scenario: "h2", rps: 9000},
			{server: "go-native", app: "asgihello", scenario: "h2", rps: 50000}, // a limit, not a peer
		}, "HTTP/2 for ASGI", []string{" met |", "gowsgi 30000 req/s over h2c; peers over h2c too: hypercorn 9000 req/s |"}},
		{"h2 failed", []cell{{server: "gowsgi", app: "asgihello", scenario: "h2", failed: "no HTTP/2: no request succeeded over h2c"}},
			"HTTP/2 for ASGI", []string{"MISSED", "gowsgi: no HTTP/2", "no peer speaks it here"}},
		{"h2 not available", []cell{{server: "gowsgi", app: "asgihello", scenario: "h2", failed: "no --interface", na: true}},
			"HTTP/2 for ASGI", []string{"not measured"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var line string
			for _, l := range strings.Split(renderTargets(tt.cells), "\n") {
				if strings.Contains(l, tt.goal) {
					line = l
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(line, w) {
					t.Errorf("line %q lacks %q", line, w)
				}
			}
		})
	}
}
