package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// Fields 1-15 of a real /proc/PID/stat, then a few more.
	tail := " S 1200 1234 1234 0 -1 4194560 2143 0 0 0 %s %s 0 0 20 0 3 0 99"
	for _, tt := range []struct {
		name, stat string
		want       procStat
		err        string
	}{
		{name: "plain", stat: "1234 (gowsgi)" + strings.ReplaceAll(strings.Replace(tail, "%s", "250", 1), "%s", "40"), want: procStat{ppid: 1200, ticks: 290}},
		{name: "spaces and parens in comm", stat: "1235 (python3 (w) 1)" + strings.ReplaceAll(tail, "%s", "7"), want: procStat{ppid: 1200, ticks: 14}},
		{name: "no comm", stat: "1234 gowsgi S 1", err: "no ')'"},
		{name: "short", stat: "1234 (x) S 1200 1234", err: "3 fields"},
		{name: "bad utime", stat: "1234 (x)" + strings.ReplaceAll(tail, "%s", "z"), err: `utime/stime "z"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.stat))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseStat(%q) error %v, want one containing %q", tt.stat, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseStat(%q) = %+v, %v; want %+v", tt.stat, got, err, tt.want)
			}
		})
	}
}

func TestCPUBetween(t *testing.T) {
	// 10 is the server; 11 and 12 its workers, 13 a worker's child; 20 and
	// 21 are someone else's.
	all := map[int]procStat{
		10: {ppid: 1, ticks: 100}, 11: {ppid: 10, ticks: 50}, 12: {ppid: 10, ticks: 60},
		13: {ppid: 11, ticks: 5}, 20: {ppid: 1, ticks: 999}, 21: {ppid: 20, ticks: 999},
	}
	start := cpuSample{root: 10, procs: treeOf(all, 10)}
	if len(start.procs) != 4 || start.procs[13].ticks != 5 {
		t.Fatalf("treeOf = %v, want 10, 11, 12 and 13", start.procs)
	}
	// At the end 13 has exited and 14 was born under 12.
	end := cpuSample{root: 10, procs: map[int]procStat{
		10: {ppid: 1, ticks: 130}, 11: {ppid: 10, ticks: 250}, 12: {ppid: 10, ticks: 260}, 14: {ppid: 12, ticks: 10},
	}}
	u := cpuBetween(start, end)
	want := cpuUse{tree: 4400 * time.Millisecond, top: 300 * time.Millisecond,
		workers: []time.Duration{2 * time.Second, 2 * time.Second, 100 * time.Millisecond}}
	if u.tree != want.tree || u.top != want.top || len(u.workers) != 3 ||
		u.workers[0] != want.workers[0] || u.workers[1] != want.workers[1] || u.workers[2] != want.workers[2] {
		t.Fatalf("cpuBetween = %+v, want %+v", u, want)
	}
}

func TestRenderCPU(t *testing.T) {
	use := cpuUse{tree: 4400 * time.Millisecond, top: 400 * time.Millisecond,
		workers: []time.Duration{2 * time.Second, 2 * time.Second}}
	cells := []cell{
		{server: loopServer, app: "busy300", scenario: "keepalive", rps: 3200}, // 312.5 µs
		{server: "gowsgi", app: "busy300", scenario: "keepalive", cpu: use, requests: 10000},
		{server: "uwsgi", app: "busy300", scenario: "keepalive", cpu: cpuUse{tree: time.Second}, requests: 2000, starved: 60, conns: 64},
		{server: "gunicorn", app: "hello", scenario: "keepalive", cpu: cpuUse{tree: time.Second}, requests: 8000},
		{server: "waitress", app: "hello", scenario: "keepalive", failed: "exited"},
	}
	out := renderCPU(cells)
	for _, want := range []string{
		"| busy300 |   gowsgi |    10000 |       440.0 | 40.0 | 200.0 + 200.0 |     312.5 |    127.5 |",
		"| busy300 |    uwsgi |     2000 |       500.0 |      |               |     312.5 |    187.5 | STARVED 60/64",
		"| hello   | gunicorn |     8000 |       125.0 |      |               |         - |        - |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("renderCPU lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "waitress") || strings.Contains(out, loopServer) {
		t.Errorf("renderCPU shows a failed cell or the loop row:\n%s", out)
	}
	if got := strings.Count(out, "#### CPU per request"); got != 1 {
		t.Errorf("renderCPU printed %d tables, want 1 (one scenario)", got)
	}
}
