package gate

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

func TestGate(t *testing.T) {
	var g Gate
	if g.Enter() {
		t.Error("a created gate lets a request in")
	}
	if err := g.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := g.Begin(); !errors.Is(err, ErrStartedTwice) {
		t.Errorf("second Begin: %v", err)
	}
	g.Open()
	if !g.Running() || !g.Enter() || !g.Enter() {
		t.Fatal("an open gate refuses requests")
	}
	// Draining waits for both requests inside; a done context gives up.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if ok, err := g.Drain(ctx); !ok || !errors.Is(err, context.Canceled) {
		t.Errorf("Drain with requests inside and a done context: %v %v", ok, err)
	}
	if g.Enter() || !g.Draining() {
		t.Error("a draining gate lets a request in")
	}
	if ok, _ := g.Drain(context.Background()); ok {
		t.Error("a second Drain drains")
	}
	if g.Close() || !g.Close() {
		t.Error("Close does not report the second close")
	}
}

func TestDrainWaits(t *testing.T) {
	var g Gate
	g.Begin()
	g.Open()
	g.Enter()
	drained := make(chan error)
	go func() {
		_, err := g.Drain(context.Background())
		drained <- err
	}()
	proctest.Eventually(t, 5*time.Second, "draining", g.Draining)
	g.Leave()
	if err := <-drained; err != nil {
		t.Errorf("Drain: %v", err)
	}
}

// TestOpenAfterClose: a Close while Start runs wins: Open reports it, and
// no request enters.
func TestOpenAfterClose(t *testing.T) {
	var g Gate
	g.Begin()
	g.Close()
	if g.Open() || g.Running() || g.Enter() {
		t.Error("a gate closed while starting opened")
	}
	var h Gate
	h.Begin()
	if !h.Open() {
		t.Error("Open of a starting gate reports false")
	}
	var k Gate
	k.Close()
	if err := k.Begin(); !errors.Is(err, ErrClosed) {
		t.Errorf("Begin after Close: %v; want ErrClosed", err)
	}
}
