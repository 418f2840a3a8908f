package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Config describes a closed-loop keep-alive load: Conns connections, each
// sending its next request as soon as the previous response is read.
type Config struct {
	Addr     string
	Conns    int
	Duration time.Duration
	Path     string // the fast request
	// SlowPath, if set, is requested once every SlowEvery requests on each
	// connection (at a different offset per connection); its latencies are
	// kept apart from the fast ones.
	SlowPath  string
	SlowEvery int
}

// Result is what one Run measured.
type Result struct {
	Elapsed  time.Duration
	Fast     []time.Duration // sorted
	Slow     []time.Duration // sorted
	Errors   int64
	PerConn  []int64 // responses per connection
	Reopened int64   // connections the server closed and we reopened
}

// RPS is the rate of all completed requests.
func (r *Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Fast)+len(r.Slow)) / r.Elapsed.Seconds()
}

// Starved is the number of connections that never got a response.
func (r *Result) Starved() int { return starved(r.PerConn) }

// starved is the number of connections whose count in perConn is 0.
func starved(perConn []int64) int {
	n := 0
	for _, c := range perConn {
		if c == 0 {
			n++
		}
	}
	return n
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

// Run drives the load until cfg.Duration has passed or ctx ends.
func Run(ctx context.Context, cfg Config) *Result {
	type connResult struct {
		fast, slow   []time.Duration
		errs, reopen int64
	}
	res := make([]connResult, cfg.Conns)
	elapsed := eachConn(ctx, cfg.Duration, cfg.Conns, func(ctx context.Context, i int) {
		r := &res[i]
		var (
			mu sync.Mutex // guards c against the AfterFunc below
			c  net.Conn
			br *bufio.Reader
		)
		setConn := func(nc net.Conn) {
			mu.Lock()
			if c != nil {
				c.Close()
			}
			c = nc
			mu.Unlock()
		}
		defer setConn(nil)
		// An expired deadline is what unblocks a read the server never
		// answers.
		stop := context.AfterFunc(ctx, func() {
			mu.Lock()
			if c != nil {
				c.SetDeadline(time.Now())
			}
			mu.Unlock()
		})
		defer stop()
		for n := 0; ctx.Err() == nil; n++ {
			if c == nil {
				d := net.Dialer{Timeout: 2 * time.Second}
				nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
				if err != nil {
					if ctx.Err() == nil {
						r.errs++
						sleep(ctx, 10*time.Millisecond)
					}
					continue
				}
				setConn(nc)
				if ctx.Err() != nil { // AfterFunc may have run before c was set
					return
				}
				br = bufio.NewReaderSize(c, 16<<10)
			}
			path, slow := cfg.Path, false
			if cfg.SlowPath != "" && cfg.SlowEvery > 0 && (n+i*7)%cfg.SlowEvery == 0 {
				path, slow = cfg.SlowPath, true
			}
			t0 := time.Now()
			keep, err := roundTrip(c, br, cfg.Addr, path)
			if err != nil {
				if ctx.Err() == nil {
					r.errs++
				}
				setConn(nil)
				continue
			}
			d := time.Since(t0)
			if slow {
				r.slow = append(r.slow, d)
			} else {
				r.fast = append(r.fast, d)
			}
			if !keep {
				r.reopen++
				setConn(nil)
			}
		}
	})
	out := &Result{Elapsed: elapsed, PerConn: make([]int64, cfg.Conns)}
	for i, r := range res {
		out.Fast = append(out.Fast, r.fast...)
		out.Slow = append(out.Slow, r.slow...)
		out.Errors += r.errs
		out.Reopened += r.reopen
		out.PerConn[i] = int64(len(r.fast) + len(r.slow))
	}
	slices.Sort(out.Fast)
	slices.Sort(out.Slow)
	return out
}

// eachConn runs conn(ctx, i) for each of n connections, each in its own
// goroutine, with a ctx that ends when d has passed or the given one ends,
// and returns how long they ran: until the last conn returned.
func eachConn(ctx context.Context, d time.Duration, n int, conn func(ctx context.Context, i int)) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { conn(ctx, i) })
	}
	wg.Wait()
	return time.Since(start)
}

// roundTrip sends one GET and reads the whole response. keep reports
// whether the connection may be reused.
func roundTrip(c net.Conn, br *bufio.Reader, host, path string) (keep bool, err error) {
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, host); err != nil {
		return false, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return false, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, err
	}
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("status %d", resp.StatusCode)
	}
	return !resp.Close, nil
}
