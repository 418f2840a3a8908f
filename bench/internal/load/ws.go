package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/coder/websocket"
)

// WSConfig describes a closed-loop WebSocket echo load: Conns WebSockets,
// each sending Message and awaiting its echo before it sends the next.
type WSConfig struct {
	URL      string // ws://host:port/path
	Conns    int
	Duration time.Duration
	Message  []byte // sent as a text message; the echo must be the same bytes
	// DialTimeout bounds each opening handshake; zero means 2 s.
	DialTimeout time.Duration
}

// WSResult is what one RunWS measured.
type WSResult struct {
	Elapsed   time.Duration
	Latencies []time.Duration // one per echo, sorted
	// Errors counts failed handshakes, writes and reads, and wrong echoes;
	// the ones the end of the load causes are not counted.
	Errors  int64
	Err     error   // the first of them
	PerConn []int64 // echoes per connection
}

// MPS is the rate of echoed messages.
func (r *WSResult) MPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Elapsed.Seconds()
}

// Starved is the number of connections that never got an echo back.
func (r *WSResult) Starved() int { return starved(r.PerConn) }

// RunWS drives the echo load until cfg.Duration has passed or ctx ends.
// A connection that fails is dialed again, as Run reopens a closed one.
func RunWS(ctx context.Context, cfg WSConfig) *WSResult {
	res := make([]wsConnResult, cfg.Conns)
	elapsed := eachConn(ctx, cfg.Duration, cfg.Conns, func(ctx context.Context, i int) {
		r := &res[i]
		buf := make([]byte, len(cfg.Message)+1)
		for ctx.Err() == nil {
			c, err := dialWS(ctx, cfg.URL, cfg.DialTimeout)
			if err != nil {
				if ctx.Err() == nil {
					r.fail(err)
					sleep(ctx, 10*time.Millisecond)
				}
				continue
			}
			for ctx.Err() == nil {
				t0 := time.Now()
				if err := echoOnce(ctx, c, cfg.Message, buf); err != nil {
					if ctx.Err() == nil {
						r.fail(err)
					}
					break
				}
				r.lat = append(r.lat, time.Since(t0))
			}
			c.CloseNow()
		}
	})
	out := &WSResult{Elapsed: elapsed, PerConn: make([]int64, cfg.Conns)}
	for i, r := range res {
		out.Latencies = append(out.Latencies, r.lat...)
		out.Errors += r.errs
		if out.Err == nil {
			out.Err = r.err
		}
		out.PerConn[i] = int64(len(r.lat))
	}
	slices.Sort(out.Latencies)
	return out
}

// wsConnResult is what one connection of RunWS saw.
type wsConnResult struct {
	lat  []time.Duration
	errs int64
	err  error // the first
}

func (r *wsConnResult) fail(err error) {
	r.errs++
	if r.err == nil {
		r.err = err
	}
}

// dialWS opens one WebSocket, without compression (the client's default):
// the load measures the server's framing, not zlib.
func dialWS(ctx context.Context, url string, timeout time.Duration) (*websocket.Conn, error) {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, _, err := websocket.Dial(dctx, url, nil)
	return c, err
}

// echoOnce sends msg as a text message and reads one message back into buf
// (one byte longer than msg, so a longer echo is seen).
func echoOnce(ctx context.Context, c *websocket.Conn, msg, buf []byte) error {
	if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
		return err
	}
	_, rd, err := c.Reader(ctx)
	if err != nil {
		return err
	}
	n, err := io.ReadFull(rd, buf)
	if err != io.ErrUnexpectedEOF && err != io.EOF {
		if err == nil {
			return fmt.Errorf("echo longer than the %d bytes sent", len(msg))
		}
		return err
	}
	if !bytes.Equal(buf[:n], msg) {
		return fmt.Errorf("echo %.40q, sent %.40q", buf[:n], msg)
	}
	return nil
}
