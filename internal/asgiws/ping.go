package asgiws

import (
	"context"
	"sync"
	"time"
)

// startPinger pings the client every Options.PingInterval unless it sent a
// message since the last time, and closes a connection whose pong does not
// come within the interval (the reader then tells the app: 1006). A pong is
// read by the reader, so a ping sent while the reader waits for the app's
// window proves nothing and is not held against the client. Between pings
// the pinger is a timer, not a goroutine. It returns the function that stops
// it.
func (c *conn) startPinger(ctx context.Context) (stop func()) {
	every := c.opts.pingInterval()
	if every < 0 {
		return func() {}
	}
	var (
		mu      sync.Mutex
		stopped bool
		t       *time.Timer
		seen    = c.received.Load()
	)
	mu.Lock()
	defer mu.Unlock()
	t = time.AfterFunc(every, func() {
		if n := c.received.Load(); n == seen {
			pctx, cancel := context.WithTimeout(ctx, every)
			err := c.ws.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil && c.closeSent.Load() == nil && !c.inSend.Load() && c.received.Load() == seen {
				c.log.Debug("websocket pong not received: closing", "path", c.path, "err", err)
				c.ws.CloseNow()
				return
			}
		}
		seen = c.received.Load()
		mu.Lock()
		if !stopped {
			t.Reset(every)
		}
		mu.Unlock()
	})
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}
