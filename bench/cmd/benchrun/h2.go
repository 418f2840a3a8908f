package main

import (
	"bufio"
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// h2Conns and h2Streams shape the HTTP/2 load: fewer connections than the
// keep-alive scenario's 64, each with several requests in flight at once,
// as from a browser or a proxy that multiplexes.
const (
	h2Conns   = 16
	h2Streams = 8
)

// h2Args are the gowsgi flags of the HTTP/2 scenario: h2c, HTTP/2 without
// TLS, as h2load speaks it to an http:// URL (prior knowledge).
var h2Args = []string{"--h2c"}

// h2Cell drives the server with h2load over h2c. A server that does not
// speak HTTP/2 answers h2load's preface as a bad HTTP/1 request: no
// request succeeds, and the cell has no figure.
func h2Cell(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
	c := cell{app: a.name}
	out, rss, err := runLoad(ctx, env, p, "h2load", h2loadArgs(env, addr, a))
	r, perr := parseH2load(string(out))
	switch {
	case perr != nil && err != nil:
		c.failed = fmt.Sprintf("h2load: %v: %.200s", err, out)
	case perr != nil:
		c.failed = perr.Error()
	case r.Succeeded == 0:
		c.failed = "no HTTP/2: no request succeeded over h2c"
	default:
		c.rps, c.errors, c.rss = r.RPS, r.Errors, rss
		c.note = fmt.Sprintf("h2load has no percentiles: mean %s, max %s", fmtDur(r.Mean), fmtDur(r.Max))
	}
	return c
}

// h2loadArgs is h2load's command line: -D, the load's duration, -N, how
// long a connection may wait for an answer.
func h2loadArgs(env *runEnv, addr string, a app) []string {
	return []string{"-t2", "-c" + strconv.Itoa(h2Conns), "-m" + strconv.Itoa(h2Streams),
		"-D", strconv.Itoa(loadSeconds(env)), "-N", "2", "http://" + addr + a.path}
}

// h2loadResult is the part of h2load's report the table uses.
type h2loadResult struct {
	RPS       float64
	Succeeded int64
	Errors    int64 // failed, errored and timed out requests
	Mean, Max time.Duration
}

// parseH2load reads the summary h2load (nghttp2 1.x) prints at the end.
func parseH2load(out string) (h2loadResult, error) {
	var r h2loadResult
	var haveRPS, haveRequests bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "finished in "):
			// finished in 3.00s, 12345.67 req/s, 1.23MB/s
			f := strings.Split(line, ", ")
			if len(f) < 2 || !strings.HasSuffix(f[1], " req/s") {
				return r, fmt.Errorf("h2load: %q: no req/s", line)
			}
			v, err := strconv.ParseFloat(strings.TrimSuffix(f[1], " req/s"), 64)
			if err != nil {
				return r, fmt.Errorf("h2load: %q: %v", line, err)
			}
			r.RPS, haveRPS = v, true
		case strings.HasPrefix(line, "requests: "):
			// requests: 100 total, 100 started, 100 done, 98 succeeded, 2 failed, 0 errored, 0 timeout
			for _, part := range strings.Split(strings.TrimPrefix(line, "requests: "), ", ") {
				kv := strings.Fields(part)
				if len(kv) != 2 {
					continue
				}
				n, err := strconv.ParseInt(kv[0], 10, 64)
				if err != nil {
					return r, fmt.Errorf("h2load: %q: %v", line, err)
				}
				switch kv[1] {
				case "succeeded":
					r.Succeeded, haveRequests = n, true
				case "failed", "errored", "timeout":
					r.Errors += n
				}
			}
		case strings.HasPrefix(line, "time for request:"):
			// time for request:   123us  12.34ms  1.23ms  456us  78.90%  (min max mean sd +/-sd)
			f := strings.Fields(strings.TrimPrefix(line, "time for request:"))
			if len(f) < 3 {
				return r, fmt.Errorf("h2load: %q: too few fields", line)
			}
			var err error
			if r.Max, err = parseDuration(f[1]); err != nil {
				return r, err
			}
			if r.Mean, err = parseDuration(f[2]); err != nil {
				return r, err
			}
		}
	}
	if !haveRPS || !haveRequests {
		return r, fmt.Errorf("h2load: no summary in its output: %.200s", out)
	}
	return r, nil
}
