package main

import (
	"testing"
	"time"
)

// h2loadOut and h2loadRefused are the ends of real h2load 1.52 reports:
// gowsgi --h2c, and gunicorn, which does not speak HTTP/2.
const h2loadOut = `Application protocol: h2c
Main benchmark duration is over for thread #1. Stopping all clients.
Stopped all clients for thread #1

finished in 2.00s, 7227.50 req/s, 436.06KB/s
requests: 14455 total, 14583 started, 14455 done, 14450 succeeded, 3 failed, 1 errored, 1 timeout
status codes: 14458 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 872.11KB (893042) total, 419.41KB (429479) headers (space savings 76.24%), 197.63KB (202370) data
                     min         max         mean         sd        +/- sd
time for request:     8.29ms     32.32ms     17.58ms      3.33ms    73.56%
time for connect:       40us       440us       232us       139us    56.25%
time to 1st byte:     9.93ms     23.59ms     16.85ms      4.36ms    62.50%
req/s           :     448.21      454.20      451.55        1.84    56.25%
`

const h2loadRefused = `Application protocol: h2c

finished in 2.00s, 0.00 req/s, 1.15KB/s
requests: 0 total, 128 started, 0 done, 0 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 0 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 2.29KB (2350) total, 0B (0) headers (space savings 0.00%), 0B (0) data
                     min         max         mean         sd        +/- sd
time for request:        0us         0us         0us         0us     0.00%
`

func TestParseH2load(t *testing.T) {
	for _, tc := range []struct {
		name, out string
		want      h2loadResult
	}{
		{"served", h2loadOut, h2loadResult{RPS: 7227.50, Succeeded: 14450, Errors: 5,
			Mean: 17580 * time.Microsecond, Max: 32320 * time.Microsecond}},
		{"no HTTP/2", h2loadRefused, h2loadResult{}},
	} {
		r, err := parseH2load(tc.out)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if r != tc.want {
			t.Errorf("%s: parseH2load = %+v, want %+v", tc.name, r, tc.want)
		}
	}
}

func TestParseH2loadNoSummary(t *testing.T) {
	if _, err := parseH2load("connect to 127.0.0.1:1 failed: Connection refused\n"); err == nil {
		t.Error("parseH2load accepted output without a summary")
	}
}
