package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// wsServer accepts every WebSocket and passes it to serve (with its
// 0-based arrival number); it returns the server's ws:// URL. serve's
// connection is closed when serve returns.
func wsServer(t *testing.T, serve func(n int, c *websocket.Conn, stop <-chan struct{})) string {
	stop := make(chan struct{})
	var count atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		serve(int(count.Add(1)-1), c, stop)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) }) // runs first: handlers must return before Close
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// echo answers each message with transform(message) until the client goes.
func echo(c *websocket.Conn, transform func([]byte) []byte) {
	for {
		typ, b, err := c.Read(context.Background())
		if err != nil {
			return
		}
		if c.Write(context.Background(), typ, transform(b)) != nil {
			return
		}
	}
}

func same(b []byte) []byte { return b }

func TestRunWS(t *testing.T) {
	tests := []struct {
		name        string
		serve       func(n int, c *websocket.Conn, stop <-chan struct{})
		starved     int
		wantErrors  bool
		wantLatency bool
	}{
		{"every connection echoed", func(n int, c *websocket.Conn, stop <-chan struct{}) { echo(c, same) },
			0, false, true},
		// The first two sockets are echoed, the others held open and never
		// read: the load must say which got nothing.
		{"two of six served", func(n int, c *websocket.Conn, stop <-chan struct{}) {
			if n < 2 {
				echo(c, same)
				return
			}
			<-stop
		}, 4, false, true},
		{"wrong echo", func(n int, c *websocket.Conn, stop <-chan struct{}) {
			echo(c, func(b []byte) []byte { return append(b, '!') })
		}, 6, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := wsServer(t, tt.serve)
			r := RunWS(context.Background(), WSConfig{URL: url, Conns: 6, Duration: 300 * time.Millisecond,
				Message: []byte("hello, echo")})
			if got := r.Starved(); got != tt.starved {
				t.Errorf("Starved = %d, want %d (per connection: %v)", got, tt.starved, r.PerConn)
			}
			if (r.Errors > 0) != tt.wantErrors {
				t.Errorf("Errors = %d, want errors: %v", r.Errors, tt.wantErrors)
			}
			if (len(r.Latencies) > 0) != tt.wantLatency || (tt.wantLatency && r.MPS() <= 0) {
				t.Errorf("%d echoes at %.0f/s, want some: %v", len(r.Latencies), r.MPS(), tt.wantLatency)
			}
		})
	}
}

func TestWSIdle(t *testing.T) {
	tests := []struct {
		name   string
		serve  func(n int, c *websocket.Conn, stop <-chan struct{})
		echoed int
	}{
		{"all still served", func(n int, c *websocket.Conn, stop <-chan struct{}) { echo(c, same) }, 20},
		// Every other socket is closed by the server while idle.
		{"half dropped", func(n int, c *websocket.Conn, stop <-chan struct{}) {
			if n%2 == 0 {
				echo(c, same)
				return
			}
			c.Close(websocket.StatusGoingAway, "dropped")
		}, 10},
		{"none answers", func(n int, c *websocket.Conn, stop <-chan struct{}) { <-stop }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := wsServer(t, tt.serve)
			id := OpenWSIdle(context.Background(), url, 20, time.Second)
			defer id.Close()
			if id.Opened != 20 || id.Failed != 0 {
				t.Fatalf("opened %d, failed %d (%v), want 20 and 0", id.Opened, id.Failed, id.Err)
			}
			if got := id.EchoAll(context.Background(), []byte("still there?"), 300*time.Millisecond); got != tt.echoed {
				t.Errorf("EchoAll = %d, want %d", got, tt.echoed)
			}
		})
	}
}

// TestWSIdlePings: a server that pings its idle sockets, as uvicorn and
// daphne do, gets its pongs, and then its echoes.
func TestWSIdlePings(t *testing.T) {
	var ponged atomic.Int64
	url := wsServer(t, func(n int, c *websocket.Conn, stop <-chan struct{}) {
		// Ping needs a reader on this side too, for the pong.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go echo(c, same)
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		defer pcancel()
		if c.Ping(pctx) == nil {
			ponged.Add(1)
		}
		<-stop
	})
	id := OpenWSIdle(context.Background(), url, 10, time.Second)
	defer id.Close()
	proctest.Eventually(t, 5*time.Second, "10 pongs", func() bool { return ponged.Load() == 10 })
	if got := id.EchoAll(context.Background(), []byte("still there?"), time.Second); got != 10 {
		t.Errorf("EchoAll = %d, want 10", got)
	}
}

func TestOpenWSIdleRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	id := OpenWSIdle(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), 5, time.Second)
	defer id.Close()
	if id.Opened != 0 || id.Failed != 5 || id.Err == nil {
		t.Errorf("opened %d, failed %d, err %v; want 0, 5 and the handshake's error", id.Opened, id.Failed, id.Err)
	}
}
