package main

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestRunSmoke starts real servers, so it runs only when asked:
// GOWSGI_BENCH=1 go test ./bench/cmd/benchrun. It checks that a run
// completes, not how fast anything is.
func TestRunSmoke(t *testing.T) {
	if testing.Short() || os.Getenv("GOWSGI_BENCH") != "1" {
		t.Skip("starts servers: set GOWSGI_BENCH=1 (and no -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := run(ctx, options{duration: time.Second, apps: []string{"hello"}, scenarios: []string{"keepalive"},
		servers: []string{"go-native", "gunicorn"}, base: "gunicorn"})
	if code != 0 {
		t.Fatalf("run exited %d", code)
	}
	stopAll()
}

// TestRunSmokeASGI is TestRunSmoke's ASGI part: uvicorn on the ASGI hello
// and the WebSocket echo (100 idle sockets), and gowsgi's ASGI rows,
// measured or "not available". Opt-in as TestRunSmoke.
func TestRunSmokeASGI(t *testing.T) {
	if testing.Short() || os.Getenv("GOWSGI_BENCH") != "1" {
		t.Skip("starts servers: set GOWSGI_BENCH=1 (and no -short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := run(ctx, options{duration: time.Second, apps: []string{"asgihello", "wsecho"},
		scenarios: []string{"keepalive", "ws", "ws-idle"}, servers: []string{"gowsgi", "uvicorn"},
		base: "gowsgi", repeat: 1, idleWS: 100})
	if code != 0 {
		t.Fatalf("run exited %d", code)
	}
	stopAll()
}
