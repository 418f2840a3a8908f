// Package gate is the lifecycle of a container (wsgi.Container,
// asgi.Container): created, running, draining, closed, and the count of
// requests inside, which a graceful shutdown waits for.
package gate

import (
	"context"
	"errors"
	"sync"
)

// A Gate lets requests in while its container runs. The zero value is a
// created container.
type Gate struct {
	mu     sync.Mutex
	state  state
	active int           // requests inside
	idle   chan struct{} // closed when active drops to 0 while draining
}

type state int

const (
	created state = iota
	starting
	running
	draining
	closed
)

// ErrStartedTwice is Begin's error once the container was started.
var ErrStartedTwice = errors.New("started twice")

// ErrClosed is Begin's error once the container was closed.
var ErrClosed = errors.New("closed before it started")

// Begin marks the start of Start: it fails if Start was called before, or
// the container closed.
func (g *Gate) Begin() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == closed {
		return ErrClosed
	}
	if g.state != created {
		return ErrStartedTwice
	}
	g.state = starting
	return nil
}

// Open ends a successful Start: requests may enter. It reports false if
// the container was closed meanwhile (a Close racing Start): Start must
// then fail, its workers being stopped.
func (g *Gate) Open() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state == starting {
		g.state = running
	}
	return g.state == running
}

// Running reports whether requests may enter.
func (g *Gate) Running() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state == running
}

// Draining reports whether Drain waits for the requests inside.
func (g *Gate) Draining() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.state == draining
}

// Enter counts a request in, if the container is running.
func (g *Gate) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.state != running {
		return false
	}
	g.active++
	return true
}

// Leave counts a request out.
func (g *Gate) Leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.active--
	if g.active == 0 && g.idle != nil {
		close(g.idle)
		g.idle = nil
	}
}

// Drain lets no request in any more and waits until those inside have
// left, or ctx is done (its error). ok is false if the container was not
// running: the caller closes it instead.
func (g *Gate) Drain(ctx context.Context) (ok bool, err error) {
	g.mu.Lock()
	if g.state != running {
		g.mu.Unlock()
		return false, nil
	}
	g.state = draining
	idle := make(chan struct{})
	if g.active == 0 {
		close(idle)
	} else {
		g.idle = idle
	}
	g.mu.Unlock()
	select {
	case <-idle:
		return true, nil
	case <-ctx.Done():
		return true, ctx.Err()
	}
}

// Close marks the container closed and reports whether it was already.
func (g *Gate) Close() (already bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	already = g.state == closed
	g.state = closed
	return already
}
