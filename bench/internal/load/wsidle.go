package load

import (
	"bytes"
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// WSIdle is a set of WebSockets that are opened and then left silent, like
// the clients of a chat that nobody is typing in. Each has a reader, as a
// browser's socket has: it answers the server's pings while idle (a server
// that pings drops a socket that does not answer) and takes the echoes
// EchoAll awaits.
type WSIdle struct {
	ctx    context.Context // the readers'; Close ends it
	cancel context.CancelFunc
	mu     sync.Mutex
	conns  []*idleWS
	Opened int   // handshakes that succeeded
	Failed int   // handshakes that did not
	Err    error // the first handshake's error, if any failed
}

// idleWS is one socket and the messages its reader received.
type idleWS struct {
	c    *websocket.Conn
	recv chan []byte // the reader's messages; more than one unread is dropped
}

// wsInFlight bounds the handshakes in flight, to keep the SYN burst under
// the listen backlog, and the echoes in flight at the end.
const wsInFlight = 256

// OpenWSIdle opens n WebSockets to url, at most wsInFlight handshakes at a
// time, each bounded by timeout, and keeps the ones that open.
func OpenWSIdle(ctx context.Context, url string, n int, timeout time.Duration) *WSIdle {
	rctx, cancel := context.WithCancel(context.Background())
	id := &WSIdle{ctx: rctx, cancel: cancel}
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
			s := &idleWS{c: c, recv: make(chan []byte, 1)}
			go s.read(rctx)
			id.conns = append(id.conns, s)
			id.Opened++
		}()
	}
	wg.Wait()
	return id
}

// read reads until the socket or ctx ends; Read answers pings meanwhile.
func (s *idleWS) read(ctx context.Context) {
	for {
		_, b, err := s.c.Read(ctx)
		if err != nil {
			return
		}
		select {
		case s.recv <- b:
		default:
		}
	}
}

// EchoAll sends msg on every open socket, at most wsInFlight at a time,
// and counts the ones whose echo comes back within timeout of the start:
// the server still serves each socket it held.
func (id *WSIdle) EchoAll(ctx context.Context, msg []byte, timeout time.Duration) (echoed int) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	id.mu.Lock()
	conns := append([]*idleWS(nil), id.conns...)
	id.mu.Unlock()
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, wsInFlight)
	for _, s := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if s.c.Write(ctx, websocket.MessageText, msg) != nil {
				return
			}
			select {
			case b := <-s.recv:
				if bytes.Equal(b, msg) {
					mu.Lock()
					echoed++
					mu.Unlock()
				}
			case <-ctx.Done():
			}
		}()
	}
	wg.Wait()
	return echoed
}

// Close drops every socket without a closing handshake (the server is
// killed next, nothing is measured after this) and ends the readers.
func (id *WSIdle) Close() {
	id.cancel()
	id.mu.Lock()
	defer id.mu.Unlock()
	for _, s := range id.conns {
		s.c.CloseNow()
	}
	id.conns = nil
}
