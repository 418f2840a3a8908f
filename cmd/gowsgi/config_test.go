package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestConfigPrecedence checks that the command line wins over GOWSGI_*
// variables, which win over the --config file, which wins over defaults.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := func(body string) string {
		p := filepath.Join(dir, fmt.Sprintf("%d.conf", len(body)))
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	conf := file(`# a comment
app = fromfile:app
workers = 3
threads = 5
env = A=file
env = B=x=y
prefix = "/quoted "
graceful-timeout = 1m
shutdown-delay = 5
max-requests = 100
`)
	type opts struct {
		app              string
		workers, threads int
		env              []string
		prefix           string
		grace            time.Duration
		maxRequests      int
		static           int
		delay            time.Duration
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want opts
		err  string
	}{
		{"defaults", []string{"a:b"}, nil, opts{app: "a:b", threads: defaultThreads, grace: 30 * time.Second}, ""},
		{"env", []string{"a:b"}, map[string]string{"GOWSGI_WORKERS": "2", "GOWSGI_MAX_REQUESTS": "7", "GOWSGI_GRACEFUL_TIMEOUT": "5",
			"GOWSGI_SHUTDOWN_DELAY": "2s", "GOWSGI_ENV": "A=1\nB=2", "GOWSGI_TEST_RUN_MAIN": "ignored", "GOWSGI_NO_SUCH_FLAG": "ignored"},
			opts{app: "a:b", workers: 2, threads: defaultThreads, maxRequests: 7, grace: 5 * time.Second, env: []string{"A=1", "B=2"}, delay: 2 * time.Second}, ""},
		{"flag beats env", []string{"-w", "4", "--max-requests=9", "a:b"}, map[string]string{"GOWSGI_WORKERS": "2", "GOWSGI_MAX_REQUESTS": "7"},
			opts{app: "a:b", workers: 4, threads: defaultThreads, maxRequests: 9, grace: 30 * time.Second}, ""},
		{"env app", nil, map[string]string{"GOWSGI_APP": "env:app"}, opts{app: "env:app", threads: defaultThreads, grace: 30 * time.Second}, ""},
		{"file", []string{"--config", conf}, nil,
			opts{app: "fromfile:app", workers: 3, threads: 5, env: []string{"A=file", "B=x=y"}, prefix: "/quoted ", grace: time.Minute, maxRequests: 100,
				delay: 5 * time.Second}, ""},
		{"GOWSGI_CONFIG", nil, map[string]string{"GOWSGI_CONFIG": conf},
			opts{app: "fromfile:app", workers: 3, threads: 5, env: []string{"A=file", "B=x=y"}, prefix: "/quoted ", grace: time.Minute, maxRequests: 100,
				delay: 5 * time.Second}, ""},
		{"all three", []string{"--config", conf, "--threads", "1", "cli:app"}, map[string]string{"GOWSGI_WORKERS": "2", "GOWSGI_ENV": "C=env", "GOWSGI_APP": "env:app"},
			opts{app: "cli:app", workers: 2, threads: 1, env: []string{"C=env"}, prefix: "/quoted ", grace: time.Minute, maxRequests: 100,
				delay: 5 * time.Second}, ""},
		{"env static", []string{"a:b"}, map[string]string{"GOWSGI_STATIC": "/s=" + dir + "\n/t=" + dir}, opts{app: "a:b", threads: defaultThreads, grace: 30 * time.Second, static: 2}, ""},
		{"bad env", []string{"a:b"}, map[string]string{"GOWSGI_WORKERS": "many"}, opts{}, `GOWSGI_WORKERS: "many" is not a whole number`},
		{"unknown key", []string{"--config", file("workers = 1\nwrokers = 2\n"), "a:b"}, nil, opts{}, `:2: unknown key "wrokers"`},
		{"alias key", []string{"--config", file("w = 1\n"), "a:b"}, nil, opts{}, `:1: unknown key "w"`},
		{"bad line", []string{"--config", file("\n\nworkers\n"), "a:b"}, nil, opts{}, `:3: "workers" is not key = value`},
		{"bad value", []string{"--config", file("timeout = soon\n"), "a:b"}, nil, opts{}, `:1: timeout: "soon" is not`},
		{"missing file", []string{"--config", filepath.Join(dir, "nope.conf"), "a:b"}, nil, opts{}, "nope.conf: no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			for _, k := range []string{"GOWSGI_WORKERS", "GOWSGI_THREADS", "GOWSGI_CONFIG", "GOWSGI_APP", "GOWSGI_ENV", "GOWSGI_MAX_REQUESTS", "GOWSGI_SHUTDOWN_DELAY"} {
				if _, ok := tc.env[k]; !ok {
					if v, ok := os.LookupEnv(k); ok {
						t.Setenv(k, v)
						os.Unsetenv(k)
					}
				}
			}
			var stderr bytes.Buffer
			o, _, status := parseServe(tc.args, io.Discard, &stderr)
			if tc.err != "" {
				if o != nil || status != exitUsage || !strings.Contains(stderr.String(), tc.err) {
					t.Errorf("status %d, stderr %q; want %d and %q", status, firstLine(stderr.String()), exitUsage, tc.err)
				}
				return
			}
			if o == nil {
				t.Fatalf("status %d: %s", status, stderr.String())
			}
			got := opts{o.app, o.workers, o.threads, o.env, o.prefix, o.gracefulTimeout, o.maxRequests, len(o.static), o.shutdownDelay}
			if got.app != tc.want.app || got.workers != tc.want.workers || got.threads != tc.want.threads ||
				!slices.Equal(got.env, tc.want.env) || got.prefix != tc.want.prefix || got.grace != tc.want.grace ||
				got.maxRequests != tc.want.maxRequests || got.static != tc.want.static || got.delay != tc.want.delay {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestServeHelp checks that serve --help documents the defaults, the
// environment and the config file.
func TestServeHelp(t *testing.T) {
	var stdout bytes.Buffer
	if status := run([]string{"serve", "--help"}, &stdout, io.Discard); status != 0 {
		t.Fatalf("serve --help: status %d", status)
	}
	for _, want := range []string{"GOWSGI_MAX_REQUESTS", "--config FILE", "--workers N", "(default 30)", "(default 127.0.0.1:8000)",
		"--static URL=DIR", "--admin ADDRESS", "--access-log FORMAT", "(default off", "--shutdown-delay DURATION"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("serve --help lacks %q", want)
		}
	}
}

// runCLI runs "gowsgi args..." to its end and returns its stdout, stderr
// and exit status.
func runCLI(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), runMainEnv+"=1"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), 0
}

func TestCheck(t *testing.T) {
	needPython(t)
	t.Parallel()
	conf := filepath.Join(t.TempDir(), "gowsgi.conf")
	os.WriteFile(conf, []byte("python = "+debianPython+"\nchdir = testdata\napp = apps:hello\n"), 0o644)
	cases := []struct {
		name   string
		env    []string
		args   []string
		status int
		stdout []string
		stderr []string
	}{
		{"ok", nil, []string{"--python", debianPython, "--chdir", "testdata", "apps:hello"}, 0,
			[]string{"app:     apps:hello (apps.hello)", "python:  " + debianPython + " (CPython 3.", "result:  ok"}, nil},
		{"config file", nil, []string{"--config", conf}, 0, []string{"app:     apps:hello", "result:  ok"}, nil},
		{"env", []string{"GOWSGI_PYTHON=" + debianPython, "GOWSGI_CHDIR=testdata", "GOWSGI_APP=apps:where"}, nil, 0,
			[]string{"app:     apps:where", "result:  ok"}, nil},
		{"import error", nil, []string{"--python", debianPython, "--chdir", "testdata", "broken"}, 4, nil,
			[]string{`cannot load app "broken"`, "Traceback", "ModuleNotFoundError: No module named 'this_module_does_not_exist'"}},
		{"not callable", nil, []string{"--python", debianPython, "--chdir", "testdata", "ops:not_callable"}, 4, nil,
			[]string{"is a NotCallable, not a WSGI callable"}},
		{"no attribute", nil, []string{"--python", debianPython, "--chdir", "testdata", "ops:nope"}, 4, nil,
			[]string{"has no attribute 'nope'"}},
		{"no app", nil, []string{"--python", debianPython}, 2, nil, []string{"no application"}},
		{"no python", nil, []string{"--python", "/nonexistent/python", "apps:hello"}, 2, nil, []string{"/nonexistent/python"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, status := runCLI(t, tc.env, append([]string{"check"}, tc.args...)...)
			if status != tc.status {
				t.Errorf("status %d; want %d\nstdout:\n%s\nstderr:\n%s", status, tc.status, stdout, stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
}
