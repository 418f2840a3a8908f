package load

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// WSIdle is a set of WebSockets that are opened and then left silent, like
// the clients of a chat that nobody is typing in.
type WSIdle struct {
	mu     sync.Mutex
	conns  []*websocket.Conn
	Opened int   // handshakes that succeeded
	Failed int   // handshakes that did not
	Err    error // the first handshake's error, if any failed
}

// wsInFlight bounds the handshakes in flight, to keep the SYN burst under
// the listen backlog, and the echoes in flight at the end.
const wsInFlight = 256

// OpenWSIdle opens n WebSockets to url, at most wsInFlight handshakes at a
// time, each bounded by timeout, and keeps the ones that open.
func OpenWSIdle(ctx context.Context, url string, n int, timeout time.Duration) *WSIdle {
	id := &WSIdle{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, wsInFlight)
	for range n {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dialWS(ctx, url, timeout)
			id.mu.Lock()
			defer id.mu.Unlock()
			if err != nil {
				id.Failed++
				if id.Err == nil {
					id.Err = err
				}
				return
			}
			id.conns = append(id.conns, c)
			id.Opened++
		}()
	}
	wg.Wait()
	return id
}

// EchoAll sends msg on every open socket, at most wsInFlight at a time,
// and counts the ones whose echo comes back within timeout of the start:
// the server still serves each socket it held.
func (id *WSIdle) EchoAll(ctx context.Context, msg []byte, timeout time.Duration) (echoed int) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id.mu.Lock()
	conns := slices.Clone(id.conns)
	id.mu.Unlock()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, wsInFlight)
	for _, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if echoOnce(ctx, c, msg, make([]byte, len(msg)+1)) == nil {
				mu.Lock()
				echoed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return echoed
}

// Close drops every socket without a closing handshake: the server is
// killed next, nothing is measured after this.
func (id *WSIdle) Close() {
	id.mu.Lock()
	defer id.mu.Unlock()
	for _, c := range id.conns {
		c.CloseNow()
	}
	id.conns = nil
}
