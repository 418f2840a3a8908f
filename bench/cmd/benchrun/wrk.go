package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// wrkResult is the part of wrk's --latency report the table uses.
type wrkResult struct {
	RPS      float64
	P50, P99 time.Duration
	Requests int64
	Errors   int64 // non-2xx/3xx plus socket errors of every kind
}

// parseWrk reads wrk 4.x output as printed with --latency.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var haveRPS bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk: %q: %v", line, err)
			}
			r.RPS, haveRPS = v, true
		case (strings.HasPrefix(line, "50%") || strings.HasPrefix(line, "99%")) && len(f) == 2:
			d, err := parseDuration(f[1])
			if err != nil {
				return r, err
			}
			if f[0] == "50%" {
				r.P50 = d
			} else {
				r.P99 = d
			}
		case strings.Contains(line, "requests in") && len(f) > 0:
			r.Requests, _ = strconv.ParseInt(f[0], 10, 64)
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:"):
			n, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			r.Errors += n
		case strings.HasPrefix(line, "Socket errors:"):
			// Socket errors: connect 0, read 12, write 0, timeout 3
			for _, part := range strings.Split(strings.TrimPrefix(line, "Socket errors:"), ",") {
				kv := strings.Fields(part)
				if len(kv) == 2 {
					n, _ := strconv.ParseInt(kv[1], 10, 64)
					r.Errors += n
				}
			}
		}
	}
	if !haveRPS {
		return r, fmt.Errorf("wrk: no Requests/sec line in output")
	}
	return r, nil
}

// parseDuration reads the durations wrk and h2load print: 53.00us, 1.20ms,
// 2.00s, 1.00m.
func parseDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, fmt.Errorf("duration %q: %v", s, err)
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("duration %q: unknown unit", s)
}
