package load

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SlowStats counts what the slow clients achieved.
type SlowStats struct {
	Completed atomic.Int64 // full responses read
	Failed    atomic.Int64 // connections that ended without a response
	wg        sync.WaitGroup
}

// Wait waits for the clients to stop once ctx has ended.
func (st *SlowStats) Wait() { st.wg.Wait() }

// Slow runs n clients until ctx ends. Each connects, trickles its request
// one byte every step, then reads the response a few bytes every step, and
// starts over. A server that gives a worker to each such client for its
// whole life (a sync worker) has none left for the fast load.
func Slow(ctx context.Context, addr, path string, n int, step time.Duration) *SlowStats {
	st := &SlowStats{}
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n"
	for i := 0; i < n; i++ {
		st.wg.Add(1)
		go func(i int) {
			defer st.wg.Done()
			// Stagger the starts so the trickles do not move in lockstep.
			if !sleep(ctx, time.Duration(i)*step/time.Duration(n)) {
				return
			}
			for ctx.Err() == nil {
				if slowOne(ctx, addr, req, step) {
					st.Completed.Add(1)
				} else if ctx.Err() == nil {
					st.Failed.Add(1)
					sleep(ctx, step)
				}
			}
		}(i)
	}
	return st
}

func slowOne(ctx context.Context, addr, req string, step time.Duration) bool {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	for i := 0; i < len(req); i++ {
		if _, err := c.Write([]byte{req[i]}); err != nil {
			return false
		}
		if !sleep(ctx, step) {
			return false
		}
	}
	var got strings.Builder
	buf := make([]byte, 16)
	for {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		k, err := c.Read(buf)
		got.Write(buf[:k])
		if err != nil {
			// Connection: close: the response ends at EOF.
			return strings.HasPrefix(got.String(), "HTTP/1.")
		}
		if !sleep(ctx, step) {
			return false
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
