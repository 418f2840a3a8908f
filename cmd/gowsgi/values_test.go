package main

import (
	"bytes"
	"io"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

func TestParseBytes(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1048576", 1 << 20, true},
		{"512M", 512 << 20, true},
		{"512m", 512 << 20, true},
		{"1G", 1 << 30, true},
		{"1GiB", 1 << 30, true},
		{"64KB", 64 << 10, true},
		{"1.5G", 3 << 29, true},
		{"2T", 2 << 40, true},
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"12iB", 0, false},
		{"lots", 0, false},
		{"9000000T", 0, false},
		{"NaN", 0, false},
	}
	for _, tc := range cases {
		got, err := parseBytes(tc.in)
		switch {
		case tc.ok && (err != nil || got != tc.want):
			t.Errorf("parseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		case !tc.ok && (err == nil || !strings.Contains(err.Error(), `"`+tc.in+`"`)):
			t.Errorf("parseBytes(%q) = %d, %v; want an error naming the input", tc.in, got, err)
		}
	}
}

// TestLimitFlags checks the worker lifecycle and overload flags, and how
// their 0 (no limit) reaches wsgi.Config (where 0 is the default).
func TestLimitFlags(t *testing.T) {
	cases := []struct {
		args                      []string
		timeout, queueTimeout     time.Duration
		backlog                   int
		maxReq, jitter, maxMemory int64
	}{
		{nil, 30 * time.Second, 30 * time.Second, 1024, 0, 0, 0},
		{[]string{"--timeout", "2.5", "--queue-timeout", "1m", "--max-queued", "10", "--max-requests", "1000",
			"--max-requests-jitter", "50", "--max-worker-memory", "512M"},
			2500 * time.Millisecond, time.Minute, 10, 1000, 50, 512 << 20},
		{[]string{"--timeout", "0", "--queue-timeout", "0", "--max-queued", "0"}, -1, -1, -1, 0, 0, 0},
	}
	for _, tc := range cases {
		o, _, status := parseServe(append(tc.args, "app:x"), io.Discard, io.Discard)
		if o == nil {
			t.Fatalf("parseServe(%q): status %d", tc.args, status)
		}
		cfg := o.withLimits(wsgiConfig())
		if cfg.Timeout != tc.timeout || cfg.QueueTimeout != tc.queueTimeout || cfg.Backlog != tc.backlog ||
			cfg.MaxRequests != tc.maxReq || cfg.MaxRequestsJitter != tc.jitter || cfg.MaxWorkerMemory != tc.maxMemory {
			t.Errorf("%q: Config{Timeout %v, QueueTimeout %v, Backlog %d, MaxRequests %d, MaxRequestsJitter %d, MaxWorkerMemory %d}",
				tc.args, cfg.Timeout, cfg.QueueTimeout, cfg.Backlog, cfg.MaxRequests, cfg.MaxRequestsJitter, cfg.MaxWorkerMemory)
		}
	}
}

// TestFlagHelp checks that serve --help documents the new flags with their
// defaults, and that bad values are named.
func TestFlagHelp(t *testing.T) {
	var stdout bytes.Buffer
	run([]string{"serve", "--help"}, &stdout, io.Discard)
	for _, want := range []string{
		"--timeout SECONDS", "(default 30)", "--max-requests N", "--max-requests-jitter N",
		"--max-worker-memory BYTES", "--max-queued N", "(default 1024)", "--backlog N", "(default 2048)", "--queue-timeout SECONDS",
		"--reload\n", "--certfile FILE", "--keyfile FILE", "--h2c\n", "--header-timeout SECONDS",
		"--keep-alive SECONDS", "(default 75)", "--limit-request-fields-size BYTES", "(default 64K)",
		"--forwarded-allow-ips IPS", "(default 127.0.0.1,::1)", "--body-memory-limit BYTES", "(default 1M)",
		"--body-memory-budget BYTES", "(default 64M", "--body-timeout SECONDS", "--body-min-rate BYTES",
		"--body-spool-limit BYTES", "(default 4G", "--body-spool-dir DIR",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
	for args, want := range map[string]string{
		"--max-worker-memory 1Q":           `"1Q" is not a size in bytes`,
		"--body-memory-budget -1":          `"-1" is not a size in bytes`,
		"--body-timeout forever":           `"forever" is not a number of seconds`,
		"--timeout soon":                   `"soon" is not a number of seconds`,
		"--max-queued -5":                  `"-5" is not a whole number`,
		"--forwarded-allow-ips 10.0.0.300": `"10.0.0.300" is not an IP address or CIDR`,
		"--certfile /nonexistent/cert.pem": "--certfile and --keyfile go together",
		"--bind fd://1":                    "a file descriptor 3 or more",
	} {
		var stderr bytes.Buffer
		status := run(append(append([]string{"serve"}, strings.Fields(args)...), "--python", "/bin/sh", "a:b"), io.Discard, &stderr)
		if status != exitUsage || !strings.Contains(stderr.String(), want) {
			t.Errorf("serve %s: status %d, stderr:\n%s\nwant %d and %q", args, status, stderr.String(), exitUsage, want)
		}
	}
}

func wsgiConfig() wsgi.Config { return wsgi.Config{App: "app:x"} }

// TestBodyFlags checks the request body flags and how they reach
// wsgi.Config and the body timeout: sizes with suffixes, 0 (every body
// spooled, no budget), and --body-timeout following --header-timeout
// unless given.
func TestBodyFlags(t *testing.T) {
	cases := []struct {
		args                 []string
		memoryBody, budget   int64
		headerT, bodyTimeout time.Duration
		minRate              int64
	}{
		{nil, 1 << 20, 0, 30 * time.Second, 30 * time.Second, 0},
		{[]string{"--body-memory-limit", "64K", "--body-memory-budget", "1G", "--body-timeout", "5"},
			64 << 10, 1 << 30, 30 * time.Second, 5 * time.Second, 0},
		{[]string{"--body-memory-limit", "0", "--body-memory-budget", "0", "--header-timeout", "3s"},
			-1, -1, 3 * time.Second, 3 * time.Second, 0},
		{[]string{"--header-timeout", "3s", "--body-timeout", "0"}, 1 << 20, 0, 3 * time.Second, 0, 0},
		{[]string{"--body-min-rate", "1K"}, 1 << 20, 0, 30 * time.Second, 30 * time.Second, 1024},
	}
	for _, tc := range cases {
		o, _, status := parseServe(append(tc.args, "app:x"), io.Discard, io.Discard)
		if o == nil {
			t.Fatalf("parseServe(%q): status %d", tc.args, status)
		}
		cfg := o.withLimits(wsgiConfig())
		if cfg.MaxMemoryBody != tc.memoryBody || cfg.MaxMemoryBodies != tc.budget ||
			o.headerTimeout != tc.headerT || o.readBodyTimeout() != tc.bodyTimeout || o.bodyMinRate != tc.minRate {
			t.Errorf("%q: Config{MaxMemoryBody %d, MaxMemoryBodies %d}, header timeout %v, body timeout %v, min rate %d; want %d, %d, %v, %v, %d",
				tc.args, cfg.MaxMemoryBody, cfg.MaxMemoryBodies, o.headerTimeout, o.readBodyTimeout(), o.bodyMinRate,
				tc.memoryBody, tc.budget, tc.headerT, tc.bodyTimeout, tc.minRate)
		}
	}
}

// TestReloadTimeoutFlag: --reload-timeout follows --timeout unless given;
// its 0 means no limit.
func TestReloadTimeoutFlag(t *testing.T) {
	cases := []struct {
		args []string
		want time.Duration
	}{
		{nil, 30 * time.Second},
		{[]string{"--timeout", "5"}, 5 * time.Second},
		{[]string{"--timeout", "0"}, -1},
		{[]string{"--timeout", "5", "--reload-timeout", "2m"}, 2 * time.Minute},
		{[]string{"--reload-timeout", "0"}, -1},
	}
	for _, tc := range cases {
		o, _, status := parseServe(append(tc.args, "app:x"), io.Discard, io.Discard)
		if o == nil {
			t.Fatalf("parseServe(%q): status %d", tc.args, status)
		}
		if got := o.withLimits(wsgiConfig()).ReloadTimeout; got != tc.want {
			t.Errorf("%q: ReloadTimeout %v; want %v", tc.args, got, tc.want)
		}
	}
}

func TestUmaskValue(t *testing.T) {
	for in, want := range map[string]fs.FileMode{"0": 0, "007": 0o7, "022": 0o22, "0o077": 0o77, "0777": 0o777, "18": 0o22, "0x12": 0o22} {
		var u umaskValue
		if err := u.Set(in); err != nil || fs.FileMode(u) != want {
			t.Errorf("umask %q = %#o, %v; want %#o", in, fs.FileMode(u), err, want)
		}
	}
	for _, in := range []string{"", "-1", "0o1000", "08", "rwx"} {
		var u umaskValue
		if err := u.Set(in); err == nil {
			t.Errorf("umask %q = %#o; want an error", in, fs.FileMode(u))
		}
	}
}

// TestGoProcs: --go-procs, else $GOMAXPROCS, else half the CPUs, at least
// one.
func TestGoProcs(t *testing.T) {
	for _, tc := range []struct {
		flag       int
		env        string
		cpus, want int
	}{
		{0, "", 2, 1}, {0, "", 1, 1}, {0, "", 8, 4}, {0, "", 3, 1},
		{0, "3", 8, 3}, {0, "x", 8, 4}, {0, "0", 8, 4},
		{2, "3", 8, 2},
	} {
		if got := goProcs(tc.flag, tc.env, tc.cpus); got != tc.want {
			t.Errorf("goProcs(%d, %q, %d) = %d; want %d", tc.flag, tc.env, tc.cpus, got, tc.want)
		}
	}
}

// TestLimitRequestBodyFlag: like every limit flag, --limit-request-body's
// 0 means no limit (and so does -1); its default is 1 GiB.
func TestLimitRequestBodyFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int64
	}{
		{nil, 1 << 30},
		{[]string{"--limit-request-body", "0"}, -1},
		{[]string{"--limit-request-body", "-1"}, -1},
		{[]string{"--limit-request-body", "60M"}, 60 << 20},
	} {
		o, _, status := parseServe(append(tc.args, "app:x"), io.Discard, io.Discard)
		if o == nil {
			t.Fatalf("parseServe(%q): status %d", tc.args, status)
		}
		if got := o.withLimits(wsgiConfig()).MaxRequestBody; got != tc.want {
			t.Errorf("%q: MaxRequestBody %d; want %d", tc.args, got, tc.want)
		}
	}
}

// TestBodySpoolFlags: --body-spool-limit takes sizes, its 0 means no limit
// and its absence Config's default; --body-spool-dir is Config.SpoolDir.
func TestBodySpoolFlags(t *testing.T) {
	cases := []struct {
		args  []string
		limit int64
		dir   string
	}{
		{nil, 0, ""},
		{[]string{"--body-spool-limit", "10G"}, 10 << 30, ""},
		{[]string{"--body-spool-limit", "0"}, -1, ""},
		{[]string{"--body-spool-dir", "/var/tmp/up"}, 0, "/var/tmp/up"},
	}
	for _, tc := range cases {
		o, _, status := parseServe(append(tc.args, "app:x"), io.Discard, io.Discard)
		if o == nil {
			t.Fatalf("parseServe(%q): status %d", tc.args, status)
		}
		if cfg := o.withLimits(wsgiConfig()); cfg.MaxSpoolBytes != tc.limit || cfg.SpoolDir != tc.dir {
			t.Errorf("%q: Config{MaxSpoolBytes %d, SpoolDir %q}; want %d, %q", tc.args, cfg.MaxSpoolBytes, cfg.SpoolDir, tc.limit, tc.dir)
		}
	}
}
