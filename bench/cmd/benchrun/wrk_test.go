package main

import (
	"testing"
	"time"
)

const wrkOut = `Running 3s test @ http://127.0.0.1:18001/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    85.71us  297.05us  27.72ms   98.52%
    Req/Sec    22.59k     4.71k   29.74k    56.67%
  Latency Distribution
     50%   53.00us
     75%   71.00us
     90%  109.00us
     99%    1.20ms
  67557 requests in 3.01s, 6.64MB read
  Socket errors: connect 0, read 12, write 1, timeout 3
  Non-2xx or 3xx responses: 5
Requests/sec:  22434.41
Transfer/sec:      2.20MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOut)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{RPS: 22434.41, P50: 53 * time.Microsecond, P99: 1200 * time.Microsecond, Requests: 67557, Errors: 21}
	if r != want {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
}

func TestParseWrkNoRate(t *testing.T) {
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("parseWrk accepted output without Requests/sec")
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"53.00us": 53 * time.Microsecond, "1.50ms": 1500 * time.Microsecond,
		"2.00s": 2 * time.Second, "1.00m": time.Minute,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseDuration("3h"); err == nil {
		t.Error("parseDuration accepted an unknown unit")
	}
}
