package main

import (
	"strings"
	"testing"
	"time"
)

func TestTargets(t *testing.T) {
	ms := time.Millisecond
	cells := []cell{
		{server: "gowsgi", app: "hello", scenario: "keepalive", rps: 10000, p99: 4 * ms},
		{server: "gowsgi-thr", app: "hello", scenario: "keepalive", rps: 12000, p99: 4 * ms},
		{server: "go-native", app: "hello", scenario: "keepalive", rps: 30000},
		{server: "uwsgi", app: "hello", scenario: "keepalive", rps: 30000, starved: 62, conns: 64},
		{server: "gunicorn", app: "hello", scenario: "keepalive", rps: 3000},
		{server: "gunicorn-gth", app: "hello", scenario: "keepalive", rps: 6000}, // not gunicorn sync
		{server: "gowsgi", app: "flask", scenario: "keepalive", rps: 5000, p99: 9 * ms},
		{server: "uwsgi", app: "flask", scenario: "keepalive", rps: 4000, p99: 8 * ms},
		{server: "gowsgi", app: "static", scenario: "keepalive", rps: 3000},
		{server: "gowsgi-static", app: "static", scenario: "keepalive", rps: 20000},
		{server: "gunicorn-gth", app: "static", scenario: "keepalive", rps: 6000},
		{server: "gowsgi", app: "download", scenario: "keepalive", rps: 90},
		{server: "go-native", app: "download", scenario: "keepalive", rps: 300},
		{server: "gunicorn", app: "download", scenario: "keepalive", rps: 150},
		{server: "gowsgi", app: "hello", scenario: "idle2000", rps: 9500},
		{server: "gowsgi-thr", app: "hello", scenario: "idle2000", rps: 10000},
		{server: "gowsgi", app: "hello", scenario: "mix-clean", p99: 10 * ms},
		{server: "gowsgi", app: "hello", scenario: "mix", p99: 90 * ms},
		{server: "gowsgi-thr", app: "hello", scenario: "mix-clean", p99: 10 * ms},
		{server: "gowsgi-thr", app: "hello", scenario: "mix", p99: 15 * ms},
		{server: "gowsgi", app: "big", scenario: "mem", memUp: 5 * mb, memDown: 70 * mb, topIdle: 10 * mb},
	}
	out := renderTargets(cells)
	for goal, want := range map[string][]string{
		"hello keep-alive ≥ 1.0× uWSGI": {"not measured", "uwsgi STARVED"},
		"≥ 3× gunicorn sync":            {" met |", "4.00× (gowsgi-thr 12000 ÷ gunicorn 3000"},
		"≥ 0.8× Go-native":              {"MISSED", "0.40×"},
		"Flask JSON":                    {"MISSED", "1.25×", "p99 9.00ms vs 8.00ms"},
		"Django":                        {"not measured"},
		"static file ≥ 3× best peer":    {" met |", "3.33× (gowsgi-static 20000 ÷ gunicorn-gth 6000"},
		"10 MB download":                {"MISSED", "0.60× (gowsgi 90 ÷ gunicorn 150", "the goal, 450 req/s, is above what Go alone serves here (go-native 300)"},
		"2,000 idle":                    {"MISSED", "gowsgi 95%", "gowsgi-thr 83%"},
		"1% slow":                       {" met |", "gowsgi 9.0×", "gowsgi-thr 1.5×"},
		"1 GB upload and download":      {"MISSED", "upload +5MB, download +70MB"},
		"idle Go process":               {" met |", "10MB"},
		"200 slow clients":              {"not measured"},
	} {
		var line string
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, goal) {
				line = l
			}
		}
		for _, w := range want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: line %q lacks %q", goal, line, w)
			}
		}
	}
}
