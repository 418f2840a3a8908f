package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/accesslog"
	"github.com/gowsgi/gowsgi/internal/proctest"
)

// The tests here run gunicorn config files with debianPython.

// writeFile writes body to dir/name and returns its path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startCLIIn runs "gowsgi args..." in dir, as startCLI.
func startCLIIn(t *testing.T, dir string, env []string, args ...string) *proctest.Process {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), runMainEnv+"=1"), env...)
	return proctest.Start(t, cmd)
}

// TestGunicornConfigServed serves with a gunicorn.conf.py as people write
// them: computed workers, a list of binds, max_requests, raw_env, a
// setting gowsgi has no counterpart for and a helper variable, both
// warned about.
func TestGunicornConfigServed(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "app.sock")
	conf := writeFile(t, dir, "gunicorn.conf.py", `import multiprocessing
import os

cores = multiprocessing.cpu_count()
workers = min(cores, 1) + 1  # 2, on any machine
bind = ["127.0.0.1:0", "unix:`+sock+`"]
max_requests = 2
raw_env = ["GREETING=from gunicorn.conf.py"]
worker_connections = 1000
chdir = `+pyRepr(abs(t, "testdata"))+`
`)
	c := startCLI(t, nil, "serve", "-c", conf, "--python", debianPython, "apps:where")
	addr := c.Addr()
	line := c.WaitLine("serving WSGI app")
	if !strings.Contains(line, "workers=2") {
		t.Errorf("start-up log %q; want workers=2", line)
	}
	for _, client := range []struct {
		name   string
		client *http.Client
		url    string
	}{{"tcp", http.DefaultClient, "http://" + addr + "/x"}, {"unix", unixClient(sock), "http://unix/x"}} {
		if code, body := get(t, client.client, client.url); code != 200 || body != "|/x|from gunicorn.conf.py" {
			t.Errorf("GET over %s: %d %q; want 200 with raw_env's GREETING", client.name, code, body)
		}
	}
	for range 4 {
		get(t, http.DefaultClient, "http://"+addr+"/")
	}
	c.WaitLine("recycling worker", "max requests")
	log := c.Stderr()
	for _, want := range []string{
		`msg="read gunicorn config" file=` + conf,
		`msg="gunicorn setting with no counterpart in gowsgi: ignored" setting=worker_connections`,
		`msg="not a gunicorn setting: ignored" setting=cores`,
	} {
		if n := strings.Count(log, want); n != 1 {
			t.Errorf("the log has %q %d times; want once:\n%s", want, n, log)
		}
	}
}

// pyRepr writes s as a Python string literal.
func pyRepr(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestGunicornConfigDefault checks that ./gunicorn.conf.py is read without
// -c, as gunicorn does, and that the log says so; and that -c of another
// file, GOWSGI_CONFIG or -c in GUNICORN_CMD_ARGS comes instead (and that
// GUNICORN_CMD_ARGS's -e wins over the file's raw_env).
func TestGunicornConfigDefault(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "gunicorn.conf.py", "bind = '127.0.0.1:0'\nraw_env = ['GREETING=default file']\nwsgi_app = 'apps:where'\n")
	other := writeFile(t, dir, "other.conf.py", "bind = '127.0.0.1:0'\nraw_env = ['GREETING=other file']\n")
	cases := []struct {
		name string
		args []string
		env  []string
		want string
	}{
		{"default", nil, nil, "|/|default file"},
		{"-c", []string{"-c", other}, nil, "|/|other file"},
		{"GOWSGI_CONFIG", nil, []string{"GOWSGI_CONFIG=" + other}, "|/|other file"},
		{"GUNICORN_CMD_ARGS", nil, []string{`GUNICORN_CMD_ARGS=-c ` + other + ` -e "GREETING=cmd args"`}, "|/|cmd args"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"serve", "--python", debianPython, "--chdir", abs(t, "testdata"), "-w", "1"}, tc.args...)
			if tc.name != "default" {
				args = append(args, "apps:where")
			}
			c := startCLIIn(t, dir, tc.env, args...)
			if code, body := get(t, http.DefaultClient, "http://"+c.Addr()+"/"); code != 200 || body != tc.want {
				t.Errorf("GET /: %d %q; want 200 %q", code, body, tc.want)
			}
			read := strings.Contains(c.Stderr(), "gunicorn's default file")
			if read != (tc.name == "default") {
				t.Errorf("log says the default file was read: %v; want %v:\n%s", read, !read, c.Stderr())
			}
		})
	}
}

// TestGunicornConfigSettings checks that each gunicorn setting with a
// counterpart reaches its flag.
func TestGunicornConfigSettings(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	conf := writeFile(t, dir, "g.conf.py", `
bind = "0.0.0.0:9000"
workers = 3
threads = 4
worker_class = "gthread"
timeout = 12
graceful_timeout = 2.5
keepalive = 5
max_requests = 1000
max_requests_jitter = 50
preload_app = True
reload = True
chdir = `+pyRepr(dir)+`
pythonpath = "/a,/b"
raw_env = ["A=1", "B=x=y"]
accesslog = "-"
errorlog = "/tmp/err.log"
loglevel = "debug"
forwarded_allow_ips = ["10.0.0.1", "10.0.0.0/8"]
limit_request_line = 1000
limit_request_fields = 20
limit_request_field_size = 300
certfile = "/c.pem"
keyfile = "/k.pem"
user = "nobody"
group = 65534
umask = 0o027
pidfile = "/run/g.pid"
backlog = 64
wsgi_app = "mysite.wsgi:application"
access_log_format = '%(h)s %(r)s'
proxy_protocol = False
proxy_allow_ips = "10.0.0.2,10.1.0.0/16"
ca_certs = "/ca.pem"
cert_reqs = 1
daemon = False
`)
	t.Setenv("GUNICORN_CMD_ARGS", "")
	var stderr bytes.Buffer
	o, _, status := parseServe([]string{"-c", conf, "--python", debianPython}, io.Discard, &stderr)
	if o == nil {
		t.Fatalf("status %d: %s", status, stderr.String())
	}
	got := []any{o.app, o.binds, o.workers, o.threads, o.workerClass.class, o.timeout, o.gracefulTimeout, o.keepAlive,
		o.maxRequests, o.maxRequestsJitter, o.preload, o.reload, o.chdir, o.pythonPath, o.env,
		o.accessLogFile, o.errorLogFile, slog.Level(o.logLevel), o.forwardedAllowIPs.list,
		o.limitRequestLine, o.limitRequestFields, o.limitRequestFieldSize, o.certFile, o.keyFile,
		o.user, o.group, o.umask.String(), o.pidFile, o.listenBacklog, o.accessLogFormat,
		o.proxyProtocol.String(), o.proxyAllowFrom.list, o.caCerts, int(o.certReqs)}
	want := []any{"mysite.wsgi:application", []string{"0.0.0.0:9000"}, 3, 4, "gthread", 12 * time.Second, 2500 * time.Millisecond, 5 * time.Second,
		1000, 50, boolValue(true), boolValue(true), dir, []string{"/a", "/b"}, []string{"A=1", "B=x=y"},
		"-", "/tmp/err.log", slog.LevelDebug, []string{"10.0.0.1", "10.0.0.0/8"},
		1000, 20, 300, "/c.pem", "/k.pem",
		"nobody", "65534", "027", "/run/g.pid", 64, "%(h)s %(r)s",
		"off", []string{"10.0.0.2", "10.1.0.0/16"}, "/ca.pem", 1}
	for i := range want {
		if g, w := jsonOf(got[i]), jsonOf(want[i]); g != w {
			t.Errorf("setting %d: %s; want %s", i, g, w)
		}
	}
	// proxy_protocol and daemon, False, ask for nothing.
	var warned []string
	for _, n := range o.notes {
		if n.level == slog.LevelWarn {
			warned = append(warned, n.msg+" "+jsonOf(n.args))
		}
	}
	if len(warned) != 0 {
		t.Errorf("warnings %q; want none", warned)
	}
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// TestGunicornPrecedence checks gunicorn's order: the command line, then
// GUNICORN_CMD_ARGS (then GOWSGI_*), then the config file, then the
// defaults.
func TestGunicornPrecedence(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	conf := writeFile(t, dir, "g.conf.py", "workers = 3\nthreads = 3\ntimeout = 3\nmax_requests = 3\nbind = ['127.0.0.1:3']\nraw_env = ['A=file']\n")
	t.Setenv("GUNICORN_CMD_ARGS", `--threads 2 --max-requests=2 -e "A=cmd args" -b 127.0.0.1:2 -c `+conf)
	t.Setenv("GOWSGI_THREADS", "1")
	t.Setenv("GOWSGI_TIMEOUT", "1")
	var stderr bytes.Buffer
	o, _, status := parseServe([]string{"-w", "9", "-b", "127.0.0.1:9", "--python", debianPython, "app:x"}, io.Discard, &stderr)
	if o == nil {
		t.Fatalf("status %d: %s", status, stderr.String())
	}
	got := jsonOf([]any{o.workers, o.binds, o.threads, o.env, o.maxRequests, o.timeout.Seconds(), o.gracefulTimeout.Seconds()})
	want := jsonOf([]any{9, []string{"127.0.0.1:9"}, 2, []string{"A=cmd args"}, 2, 1, 30})
	if got != want {
		t.Errorf("workers, binds, threads, env, max requests, timeout, graceful timeout:\n%s; want\n%s", got, want)
	}
}

// TestGunicornConfigErrors checks that a config file that fails, or has
// a value gowsgi cannot take, stops serve with the reason.
func TestGunicornConfigErrors(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	cases := []struct {
		name, body, want string
	}{
		{"raises", "import nonexistent_module_x\n", "ModuleNotFoundError: No module named 'nonexistent_module_x'"},
		{"syntax", "workers = (\n", "SyntaxError"},
		{"bad workers", "workers = 'many'\n", `workers = many: "many" is not a whole number`},
		{"dict", "bind = {'a': 1}\n", `bind: {"a": 1} is not a string`},
		{"uvicorn", "worker_class = 'uvicorn.workers.UvicornWorker'\n", "once ASGI lands, it will be --interface asgi"},
		{"missing", "", "no such file or directory"},
		{"no .py, not key = value", "import os\nworkers = os.nope\n", `is not key = value; nor is it a gunicorn config file`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := tc.name + ".py"
			if strings.HasPrefix(tc.name, "no .py") {
				name = "conf"
			}
			conf := filepath.Join(dir, name)
			if tc.name != "missing" {
				writeFile(t, dir, name, tc.body)
			}
			var stderr bytes.Buffer
			o, _, status := parseServe([]string{"-c", conf, "--python", debianPython, "app:x"}, io.Discard, &stderr)
			if o != nil || status != exitUsage || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("status %d, stderr:\n%s\nwant %d and %q", status, stderr.String(), exitUsage, tc.want)
			}
		})
	}
}

// TestGunicornConfigKinds checks which --config files run as gunicorn's.
func TestGunicornConfigKinds(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, body string
		gunicorn   bool
	}{
		{"a.py", "workers = 2\n", true},
		{"python:mysite.gunicorn_conf", "", true},
		{"gowsgi.conf", "# comment\nworkers = 2\nenv = A=1\n", false},
		{"import.conf", "import os\n", true},
		{"underscore.conf", "max_requests = 2\n", true},
		{"list.conf", "bind = ['a']\n", true},
		{"quoted.conf", "bind = '127.0.0.1:1'\n", true},
		{"double-quoted.conf", "prefix = \"/a \"\n", false},
	}
	for _, tc := range cases {
		path := tc.name
		if !strings.HasPrefix(tc.name, "python:") {
			path = writeFile(t, dir, tc.name, tc.body)
		}
		if got := isGunicornConfig(path); got != tc.gunicorn {
			t.Errorf("isGunicornConfig(%s) = %v; want %v", tc.name, got, tc.gunicorn)
		}
	}
}

// TestShellSplit checks GUNICORN_CMD_ARGS's splitting against Python's
// shlex.split, which gunicorn uses.
func TestShellSplit(t *testing.T) {
	needPython(t)
	cases := []string{
		`--workers 2 -b 127.0.0.1:8000`,
		`  -e 'A=x y'   -e "B=\"q\" \\ \n \$" `,
		`a\ b c\\d 'it'\''s' ""`,
		"tab\tnew\nline",
		`"mixed"'quotes'bare`,
		`--access-logformat '%(h)s "%(r)s"'`,
	}
	for _, in := range cases {
		got, err := shellSplit(in)
		if err != nil {
			t.Errorf("shellSplit(%q): %v", in, err)
			continue
		}
		out, err := exec.Command(debianPython, "-c", "import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1])))", in).Output()
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		if err := json.Unmarshal(out, &want); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("shellSplit(%q) = %q; shlex.split: %q", in, got, want)
		}
	}
	for _, in := range []string{`'open`, `"open`, `end\`} {
		if got, err := shellSplit(in); err == nil {
			t.Errorf("shellSplit(%q) = %q; want an error", in, got)
		}
	}
}

// TestWorkerClass checks gunicorn's -k values.
func TestWorkerClass(t *testing.T) {
	cases := []struct {
		class, err string
		warns      bool
	}{
		{"sync", "", false},
		{"gthread", "", false},
		{"gevent", "", true},
		{"uvicorn.workers.UvicornWorker", "serves ASGI apps", false},
		{"mypkg.Worker", "not a worker class gowsgi knows", false},
	}
	for _, tc := range cases {
		var stderr bytes.Buffer
		o, _, _ := parseServe([]string{"-k", tc.class, "--python", "/bin/sh", "app:x"}, io.Discard, &stderr)
		switch {
		case tc.err != "":
			if o != nil || !strings.Contains(stderr.String(), tc.err) {
				t.Errorf("-k %s: %q; want an error with %q", tc.class, stderr.String(), tc.err)
			}
		case o == nil:
			t.Errorf("-k %s: %s", tc.class, stderr.String())
		case (len(o.notes) > 0) != tc.warns:
			t.Errorf("-k %s: notes %v; want a warning: %v", tc.class, o.notes, tc.warns)
		}
	}
}

// TestGunicornCommandLine checks that a gunicorn command line as deploy
// scripts have it runs: flags without a counterpart are warned of once,
// --daemon is refused with the reason.
func TestGunicornCommandLine(t *testing.T) {
	needPython(t)
	t.Parallel()
	c := startCLI(t, nil, "serve", "--python", debianPython, "--chdir", "testdata",
		"-b", "127.0.0.1:0", "-w", "1", "-k", "gthread", "--threads", "2", "-t", "60", "--name", "mysite",
		"--worker-connections", "1000", "--capture-output", "--worker-tmp-dir", "/dev/shm", "-R",
		"--log-file", "-", "--access-logfile", "-", "--keep-alive", "5", "--max-requests", "1000",
		"--max-requests-jitter", "50", "--limit-request-line", "8190", "--pid", filepath.Join(t.TempDir(), "pid"),
		"apps:hello")
	if code, body := get(t, http.DefaultClient, "http://"+c.Addr()+"/"); code != 200 || body != "Hello world!\n" {
		t.Errorf("GET /: %d %q", code, body)
	}
	for _, f := range []string{"--name", "--worker-connections", "--capture-output", "--worker-tmp-dir", "--enable-stdio-inheritance"} {
		if n := c.Count(`msg="gunicorn flag with no counterpart in gowsgi: ignored" flag=` + f); n != 1 {
			t.Errorf("%s warned of %d times; want once:\n%s", f, n, c.Stderr())
		}
	}

	var stderr bytes.Buffer
	if status := run([]string{"serve", "-D", "--python", "/bin/sh", "app:x"}, io.Discard, &stderr); status != exitUsage ||
		!strings.Contains(stderr.String(), "does not daemonize") {
		t.Errorf("serve -D: status %d, %q; want %d, does not daemonize", status, stderr.String(), exitUsage)
	}
}

// TestAccessLogfileStdout checks that --access-logfile - turns the access
// log on, combined, to stdout, as gunicorn's does.
func TestAccessLogfileStdout(t *testing.T) {
	var stdout bytes.Buffer
	for _, tc := range []struct {
		file string
		want accesslog.Format
	}{{"", accesslog.Off}, {"-", accesslog.Combined}} {
		format, out, file, err := accessLogOutput(&serveOptions{accessLogFile: tc.file}, &stdout)
		if format != tc.want || out != &stdout || file != nil || err != nil {
			t.Errorf("--access-logfile %q: %v, %v, %v, %v; want %v to stdout", tc.file, format, out, file, err, tc.want)
		}
	}
}

// TestGunicornEnvDefaults checks gunicorn's defaults from the environment,
// $PORT and $WEB_CONCURRENCY, and that what is set wins over them.
func TestGunicornEnvDefaults(t *testing.T) {
	t.Setenv("GUNICORN_CMD_ARGS", "")
	t.Setenv("PORT", "5000")
	t.Setenv("WEB_CONCURRENCY", "3")
	cases := []struct {
		args    []string
		binds   []string
		workers int
	}{
		{nil, []string{"0.0.0.0:5000"}, 3},
		{[]string{"-b", ":1", "-w", "2"}, []string{":1"}, 2},
	}
	for _, tc := range cases {
		var stderr bytes.Buffer
		o, _, _ := parseServe(append(tc.args, "--python", "/bin/sh", "app:x"), io.Discard, &stderr)
		if o == nil {
			t.Fatal(stderr.String())
		}
		if !slices.Equal(o.binds, tc.binds) || o.workers != tc.workers {
			t.Errorf("%q: binds %q, workers %d; want %q, %d", tc.args, o.binds, o.workers, tc.binds, tc.workers)
		}
	}
}

// TestGunicornConfigNotPy checks that a gunicorn config file whose name
// does not end in .py, and python:MODULE, are run as gunicorn's.
func TestGunicornConfigNotPy(t *testing.T) {
	needPython(t)
	dir := t.TempDir()
	writeFile(t, dir, "gunicorn.conf", "max_requests = 7\nbind = ['127.0.0.1:1']\n")
	writeFile(t, dir, "mysite_gunicorn.py", "max_requests = 8\n")
	t.Setenv("GUNICORN_CMD_ARGS", "")
	t.Chdir(dir)
	for conf, want := range map[string]int{"gunicorn.conf": 7, "python:mysite_gunicorn": 8} {
		var stderr bytes.Buffer
		o, _, _ := parseServe([]string{"-c", conf, "--python", debianPython, "app:x"}, io.Discard, &stderr)
		if o == nil {
			t.Errorf("-c %s: %s", conf, stderr.String())
		} else if o.maxRequests != want {
			t.Errorf("-c %s: max requests %d; want %d", conf, o.maxRequests, want)
		}
	}
}
