package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// python is Debian's interpreter: the peers' packages are installed for it,
// not for whatever python3 comes first on PATH.
const python = "/usr/bin/python3"

// app is one WSGI or ASGI application under bench/apps.
type app struct {
	name   string
	target string // MODULE:APP
	path   string
	post   bool // a 1 KB POST body (the echo app)
	mem    bool // only for the memory scenario
	asgi   bool // an ASGI app: the ASGI servers run it, the WSGI ones do not
	ws     bool // a WebSocket app: only the WebSocket scenarios
	// env is added to the server's environment (and loop.py's) for this
	// app alone: the busy apps are one module with four settings.
	env []string
}

var apps = []app{
	{name: "hello", target: "hello:application", path: "/"},
	{name: "flask", target: "flaskapp:application", path: "/"},
	{name: "django", target: "djangoapp:application", path: "/"},
	{name: "echo", target: "echo:application", path: "/", post: true},
	{name: "stream", target: "stream:application", path: "/"},
	{name: "download", target: "download:application", path: "/"},
	{name: "static", target: "static:application", path: "/"},
	{name: "big", target: "big:application", path: "/ready", mem: true},
	busyApp(0), busyApp(100), busyApp(300), busyApp(1000),
	{name: "asgihello", target: "asgihello:application", path: "/", asgi: true},
	{name: "fastapi", target: "fastapiapp:application", path: "/items/42?q=hello", asgi: true},
	{name: "wsecho", target: "wsecho:application", path: "/", asgi: true, ws: true},
}

// busyApp is bench/apps/busy.py burning us microseconds of CPU per
// request: how a server's overhead weighs against the app's own work.
func busyApp(us int) app {
	n := strconv.Itoa(us)
	return app{name: "busy" + n, target: "busy:application", path: "/", env: []string{"BUSY_US=" + n}}
}

// pinnedApps are those the pinned rows (gowsgi-pin, uwsgi-http-pin) run:
// pinning matters when the workers fill the cores.
var pinnedApps = []string{"hello", "flask", "django", "busy300"}

// server is one way of serving the apps. argv returns nil when the server
// cannot serve that app (the Go-native limit only has hello and download).
type server struct {
	name string
	only []string // the apps it is measured on, if not all: a variant, to keep the run short
	// noMem leaves a variant out of the memory scenario: one row of each
	// server is enough there.
	noMem bool
	// asgi: the server runs the ASGI apps and no others; an app's kind
	// decides which servers run it. anyKind: both kinds (go-native's
	// answers are the apps' responses without the apps).
	asgi, anyKind bool
	note          string
	argv          func(env *runEnv, a app, addr string) []string
	// path, if set, is the request path instead of the app's: the server
	// answers that app's load with something else than the app.
	path func(env *runEnv, a app) string
}

// servers lists every contender; the first is the base of the ratios.
// Every Python server gets 2 worker processes (waitress and daphne can
// only have one).
func servers() []server {
	return append(wsgiServers(), asgiServers()...)
}

// wsgiServers are the WSGI contenders.
func wsgiServers() []server {
	return []server{
		{
			name: "gowsgi",
			note: "2 worker processes",
			argv: func(env *runEnv, a app, addr string) []string { return gowsgiArgv(env, a, addr, 1) },
		},
		{
			// On every app, as gunicorn-gth: a thread waiting for Go's
			// next request leaves the worker's GIL to one that has it.
			name: "gowsgi-thr", noMem: true,
			note: "2 worker processes x 4 threads",
			argv: func(env *runEnv, a app, addr string) []string { return gowsgiArgv(env, a, addr, 4) },
		},
		{
			// --cpu-affinity 1 keeps each worker on its core: faster for
			// the apps that keep the workers busy, slower for hello.
			name: "gowsgi-pin", only: pinnedApps, noMem: true,
			note: "2 worker processes x 4 threads, --cpu-affinity 1: each worker pinned to its own CPU",
			argv: func(env *runEnv, a app, addr string) []string {
				if argv := gowsgiArgv(env, a, addr, 4); argv != nil {
					return append(argv, "--cpu-affinity", "1")
				}
				return nil
			},
		},
		{
			name: "gowsgi-t16", only: []string{"hello"},
			note: "2 worker processes x 16 threads: room for slow requests",
			argv: func(env *runEnv, a app, addr string) []string { return gowsgiArgv(env, a, addr, 16) },
		},
		{
			name: "gowsgi-static", only: []string{"static"},
			note: "NOT the WSGI app: gowsgi's own file server, --static /files=DIR, Go alone (no Python) answers GET /files/static.bin, the static app's file",
			argv: func(env *runEnv, a app, addr string) []string {
				if argv := gowsgiArgv(env, a, addr, 1); argv != nil {
					return append(argv, "--static", "/files="+filepath.Dir(env.static))
				}
				return nil
			},
			path: func(env *runEnv, a app) string { return "/files/" + filepath.Base(env.static) },
		},
		{
			name: "go-native", anyKind: true,
			note: "limit: bench/cmd/gohello, a Go handler's response (hello's, or download's 10 MB at /download, or wsecho's echo on github.com/coder/websocket) on net/http and no Python: what HTTP alone costs",
			argv: func(env *runEnv, a app, addr string) []string {
				if env.gohello == "" || !slices.Contains([]string{"hello", "download", "asgihello", "wsecho"}, a.name) {
					return nil
				}
				return []string{env.gohello, "-bind", addr}
			},
			path: func(env *runEnv, a app) string {
				if a.name == "download" {
					return "/download"
				}
				return a.path
			},
		},
		{
			name: "uwsgi",
			note: "--http11-socket, 2 processes, keep-alive",
			argv: func(env *runEnv, a app, addr string) []string { return uwsgiArgv(env, a, addr, false) },
		},
		{
			name: "uwsgi-thr", only: []string{"hello"},
			note: "--http11-socket, 2 processes x 4 threads, keep-alive",
			argv: func(env *runEnv, a app, addr string) []string { return uwsgiArgv(env, a, addr, true) },
		},
		{
			name: "uwsgi-http", noMem: true,
			note: "uWSGI's HTTP router (--http --http-keepalive) in front of 2 processes: the uWSGI setup that answers every connection",
			argv: func(env *runEnv, a app, addr string) []string { return uwsgiRouterArgv(env, a, addr, false) },
		},
		{
			name: "uwsgi-http-thr", noMem: true,
			note: "uWSGI's HTTP router in front of 2 processes x 4 threads",
			argv: func(env *runEnv, a app, addr string) []string { return uwsgiRouterArgv(env, a, addr, true) },
		},
		{
			name: "uwsgi-http-pin", only: pinnedApps, noMem: true,
			note: "uWSGI's HTTP router in front of 2 processes, --cpu-affinity 1: gowsgi-pin's setting for uWSGI",
			argv: func(env *runEnv, a app, addr string) []string {
				return append(uwsgiRouterArgv(env, a, addr, false), "--cpu-affinity", "1")
			},
		},
		{
			name: "gunicorn",
			note: "sync worker, -w 2",
			argv: func(env *runEnv, a app, addr string) []string {
				return []string{python, "-m", "gunicorn", "-w", "2", "-b", addr, "--chdir", env.apps, a.target}
			},
		},
		{
			name: "gunicorn-gth",
			note: "gthread worker, -w 2 --threads 4",
			argv: func(env *runEnv, a app, addr string) []string {
				return []string{python, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4",
					"-b", addr, "--chdir", env.apps, a.target}
			},
		},
		{
			name: "gunicorn-gth16", only: []string{"hello"},
			note: "gthread worker, -w 2 --threads 16",
			argv: func(env *runEnv, a app, addr string) []string {
				return []string{python, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "16",
					"-b", addr, "--chdir", env.apps, a.target}
			},
		},
		{
			name: "waitress",
			note: "ONE process (waitress has no workers), 4 threads",
			argv: func(env *runEnv, a app, addr string) []string {
				return []string{python, "-m", "waitress", "--listen=" + addr, "--threads=4", a.target}
			},
		},
		{
			name: "tornado",
			note: "WSGIContainer on a 4-thread executor, 2 forked processes (bench/tornado_serve.py)",
			argv: func(env *runEnv, a app, addr string) []string {
				return []string{python, filepath.Join(env.bench, "tornado_serve.py"), addr, a.target, "2", "4"}
			},
		},
	}
}

func uwsgiArgv(env *runEnv, a app, addr string, threads bool) []string {
	// --http11-socket keeps connections alive by itself when the response
	// has a length; the header tells HTTP/1.0 clients too.
	argv := []string{"uwsgi", "--plugin", "python3", "--http11-socket", addr,
		"--add-header", "Connection: Keep-Alive"}
	return append(argv, uwsgiCommon(env, a, threads)...)
}

// uwsgiRouterArgv runs uWSGI's HTTP router, an async process that holds
// the client connections (kept alive with --http-keepalive) and passes
// each request to a free worker over the uwsgi protocol, as gowsgi's Go
// process does over its channels.
func uwsgiRouterArgv(env *runEnv, a app, addr string, threads bool) []string {
	argv := []string{"uwsgi", "--plugin", "python3,http", "--http", addr, "--http-keepalive"}
	return append(argv, uwsgiCommon(env, a, threads)...)
}

// uwsgiCommon are the flags every uWSGI row shares. --listen: the default
// backlog of 100 would refuse the 2,000-connection scenario before uWSGI
// ever saw it. --die-on-term: SIGTERM reloads otherwise.
func uwsgiCommon(env *runEnv, a app, threads bool) []string {
	argv := []string{"--master", "--processes", "2", "--die-on-term", "--disable-logging",
		"--listen", "1024", "--need-app", "--chdir", env.apps, "--module", a.target}
	if threads {
		argv = append(argv, "--threads", "4")
	}
	return argv
}

// gowsgiArgv is the one place that knows gowsgi's command line; nil until
// cmd/gowsgi builds.
func gowsgiArgv(env *runEnv, a app, addr string, threads int) []string {
	if env.gowsgi == "" {
		return nil
	}
	return []string{env.gowsgi, "serve", "--bind", addr, "--workers", "2", "--threads", strconv.Itoa(threads),
		"--log-level", "warning", "--chdir", env.apps, "--python", python, a.target}
}

// serverEnv is added to every server's environment, before the app's own.
func serverEnv(env *runEnv) []string {
	return []string{
		"PYTHONPATH=" + env.apps,
		"PYTHONDONTWRITEBYTECODE=1",
		"GOWSGI_BENCH_STATIC=" + env.static,
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
