package main

import (
	"strings"
	"testing"
	"time"
)

func TestRenderRatiosAndStarvation(t *testing.T) {
	cells := []cell{
		{server: "gowsgi", app: "hello", scenario: "keepalive", rps: 10000, p50: time.Millisecond, p99: 4 * time.Millisecond, rss: 40 << 20, conns: 64},
		{server: "uwsgi", app: "hello", scenario: "keepalive", rps: 30000, p50: 50 * time.Microsecond, p99: time.Millisecond, rss: 40 << 20, starved: 62, conns: 64},
		{server: "gunicorn", app: "hello", scenario: "keepalive", rps: 5000, p50: 2 * time.Millisecond, p99: 8 * time.Millisecond, rss: 80 << 20, conns: 64},
		{server: "gunicorn", app: "hello", scenario: "slow200", rps: 500, p50: 2 * time.Millisecond, p99: 8 * time.Millisecond, rss: 80 << 20, conns: 64},
	}
	derive(cells)
	out := render(cells, func(string) string { return "gowsgi" }, nil)
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(strings.Trim(l, "| ")); len(f) > 0 && lines[f[0]] == "" {
			lines[f[0]] = l // the first table: keepalive
		}
	}
	for server, want := range map[string][]string{
		"gowsgi":   {"10000", "1.00"},
		"uwsgi":    {"(30000)", "STARVED 62/64"},
		"gunicorn": {"0.50", "2.00"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[server], w) {
				t.Errorf("row %q lacks %q", lines[server], w)
			}
		}
	}
	if strings.Contains(lines["uwsgi"], "3.00") {
		t.Errorf("a starved figure got a ratio: %q", lines["uwsgi"])
	}
	if !strings.Contains(out, "10% of clean req/s") {
		t.Errorf("slow200 is not compared with the clean run:\n%s", out)
	}
}

func TestMedianCells(t *testing.T) {
	in := []cell{
		{server: "a", app: "hello", scenario: "keepalive", rps: 30},
		{server: "b", app: "hello", scenario: "keepalive", rps: 5},
		{server: "a", app: "hello", scenario: "keepalive", rps: 10},
		{server: "b", app: "hello", scenario: "keepalive", rps: 50, starved: 3, conns: 64},
		{server: "a", app: "hello", scenario: "keepalive", rps: 20},
	}
	out := medianCells(in)
	if len(out) != 2 {
		t.Fatalf("got %d cells, want 2", len(out))
	}
	if out[0].server != "a" || out[0].rps != 20 {
		t.Errorf("median of a = %+v, want rps 20", out[0])
	}
	if out[1].server != "b" || out[1].starved != 3 {
		t.Errorf("b = %+v, want the starved round", out[1])
	}
}
