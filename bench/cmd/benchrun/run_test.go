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
