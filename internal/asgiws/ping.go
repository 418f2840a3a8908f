package asgiws

import (
	"context"
	"sync"
	"time"
)

// pinger is a connection's pings: its state is part of conn, so that the
// pings of an idle connection cost one timer and nothing else.
type pinger struct {
	mu      sync.Mutex
	ctx     context.Context // run's: done once the connection ends
	t       *time.Timer
	stopped bool
	seen    int64 // conn.received at the last ping
}

// startPinger pings the client every Options.PingInterval unless it sent a
// message since the last time, and closes a connection whose pong does not
// come within the interval (the reader then tells the app: 1006). A pong is
// read by the reader, so a ping sent while the reader waits for the app's
// window proves nothing and is not held against the client. Between pings
// the pinger is a timer, not a goroutine. stopPinger stops it.
func (c *conn) startPinger(ctx context.Context) {
	every := c.opts.pingInterval()
	if every < 0 {
		return
	}
	p := &c.pinger
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ctx, p.seen = ctx, c.received.Load()
	p.t = time.AfterFunc(every, c.ping)
}

// ping is the pinger's timer's function.
func (c *conn) ping() {
	p, every := &c.pinger, c.opts.pingInterval()
	if n := c.received.Load(); n == p.seen {
		// Not a child of p.ctx: that would leave p.ctx a children map
		// and a Done channel (360 B per idle socket). The end of the
		// connection ends the ping anyway: it closes the socket.
		pctx, cancel := context.WithTimeout(context.Background(), every)
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil && p.ctx.Err() == nil && c.closeSent.Load() == nil && !c.inSend.Load() && c.received.Load() == p.seen {
			c.log.Debug("websocket pong not received: closing", "path", c.path, "err", err)
			c.ws.CloseNow()
			return
		}
	}
	p.seen = c.received.Load()
	p.mu.Lock()
	if !p.stopped {
		p.t.Reset(every)
	}
	p.mu.Unlock()
}

// stopPinger stops the pings, if there are any.
func (c *conn) stopPinger() {
	p := &c.pinger
	p.mu.Lock()
	p.stopped = true
	if p.t != nil {
		p.t.Stop()
	}
	p.mu.Unlock()
}
