package main

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseBind(t *testing.T) {
	cases := []struct {
		in, network, address, err string
	}{
		{"127.0.0.1:8000", "tcp", "127.0.0.1:8000", ""},
		{":9000", "tcp", ":9000", ""},
		{"0.0.0.0:0", "tcp", "0.0.0.0:0", ""},
		{"localhost", "tcp", "localhost:8000", ""},
		{"[::1]:8080", "tcp", "[::1]:8080", ""},
		{"[::1]", "tcp", "[::1]:8000", ""},
		{"::1", "tcp", "[::1]:8000", ""},
		{"localhost:http", "tcp", "localhost:http", ""},
		{"unix:/run/app.sock", "unix", "/run/app.sock", ""},
		{"unix:rel.sock", "unix", "rel.sock", ""},
		{"unix:", "", "", "no socket path"},
		{"host:99999", "", "", `bad port "99999"`},
		{"host:-1", "", "", `bad port "-1"`},
		{"a:b:c", "", "", "want HOST:PORT"},
		{"", "", "", "want HOST:PORT"},
	}
	for _, tc := range cases {
		b, err := parseBind(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), `"`+tc.in+`"`) {
				t.Errorf("parseBind(%q) = %v, %v; want an error naming the input and saying %q", tc.in, b, err, tc.err)
			}
		case err != nil || b.network != tc.network || b.address != tc.address:
			t.Errorf("parseBind(%q) = %+v, %v; want {%s %s}", tc.in, b, err, tc.network, tc.address)
		}
	}
}

func TestParseFlags(t *testing.T) {
	cases := []struct {
		args []string
		want serveOptions
	}{
		{[]string{"app:x"}, serveOptions{app: "app:x", binds: []string{defaultBind}, threads: defaultThreads, gracefulTimeout: 30 * time.Second, limitRequestBody: 1 << 30}},
		{[]string{"-b", ":1", "--bind=unix:/s", "-w", "3", "--threads=2", "app:x", "--pythonpath", "a,b", "--pythonpath=c",
			"-e", "A=1", "--env", "B=x=y", "--limit-request-body", "-1", "--prefix", "/p", "--graceful-timeout", "2.5",
			"--chdir", ".", "--python", "py"},
			serveOptions{app: "app:x", binds: []string{":1", "unix:/s"}, workers: 3, threads: 2, pythonPath: []string{"a", "b", "c"},
				env: []string{"A=1", "B=x=y"}, limitRequestBody: -1, prefix: "/p", gracefulTimeout: 2500 * time.Millisecond,
				chdir: ".", python: "py"}},
		{[]string{"--graceful-timeout", "1m", "--", "-app:x"}, serveOptions{app: "-app:x", binds: []string{defaultBind}, threads: defaultThreads, gracefulTimeout: time.Minute, limitRequestBody: 1 << 30}},
		{[]string{"--limit-request-body", "60M", "app:x"}, serveOptions{app: "app:x", binds: []string{defaultBind}, threads: defaultThreads, gracefulTimeout: 30 * time.Second,
			limitRequestBody: 60 << 20}},
		{[]string{"--limit-request-body=1.5GiB", "app:x"}, serveOptions{app: "app:x", binds: []string{defaultBind}, threads: defaultThreads, gracefulTimeout: 30 * time.Second,
			limitRequestBody: 3 << 29}},
	}
	for _, tc := range cases {
		o, _, status := parseServe(tc.args, io.Discard, io.Discard)
		if o == nil {
			t.Errorf("parseServe(%q): status %d", tc.args, status)
			continue
		}
		if o.app != tc.want.app || !slices.Equal(o.binds, tc.want.binds) || o.workers != tc.want.workers ||
			o.threads != tc.want.threads || !slices.Equal(o.pythonPath, tc.want.pythonPath) ||
			!slices.Equal(o.env, tc.want.env) || o.limitRequestBody != tc.want.limitRequestBody ||
			o.prefix != tc.want.prefix || o.gracefulTimeout != tc.want.gracefulTimeout ||
			o.chdir != tc.want.chdir || o.python != tc.want.python {
			t.Errorf("parseServe(%q) =\n%+v\nwant\n%+v", tc.args, *o, tc.want)
		}
	}
}

// TestByteFlagsTakeSuffixes: every flag whose usage says BYTES takes the
// size suffixes of --max-worker-memory.
func TestByteFlagsTakeSuffixes(t *testing.T) {
	fs := newServeFlags(new(serveOptions))
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if kind, _ := flag.UnquoteUsage(f); kind != "BYTES" {
			return
		}
		n++
		for in, want := range map[string]string{"60M": "60M", "64KiB": "64K", "1G": "1G", "1048576": "1M"} {
			if err := f.Value.Set(in); err != nil || f.Value.String() != want {
				t.Errorf("--%s %s: %v, reads back %q; want %q", f.Name, in, err, f.Value.String(), want)
			}
		}
	})
	if n < 3 {
		t.Errorf("%d BYTES flags; want --limit-request-body, --limit-request-fields-size, --max-worker-memory at least", n)
	}
}
