package main

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
)

// asgiEnv is what the ASGI rows need to know about this run.
type asgiEnv struct {
	// gowsgiNo says why gowsgi cannot serve ASGI apps ("" if it can):
	// its rows show "not available" and the ASGI tables' ratios are to
	// uvicorn.
	gowsgiNo string
	// loop, http and ws are the implementations uvicorn is told to use:
	// the fastest of the ones /usr/bin/python3 can import.
	loop, http, ws string
	idleWS         int // sockets of the ws-idle scenario
}

// asgiBaseFallback is the ASGI tables' base when gowsgi has no ASGI
// figures: the yardstick.
const asgiBaseFallback = "uvicorn"

// setupASGI finds out whether the gowsgi build serves ASGI (its serve
// command has --interface) and which of uvicorn's fast paths are
// installed.
func setupASGI(ctx context.Context, env *runEnv) {
	switch {
	case env.gowsgi == "":
		env.asgi.gowsgiNo = env.gowsgiNo
	default:
		// serve --help exits 0 and prints every flag.
		out, _ := exec.CommandContext(ctx, env.gowsgi, "serve", "--help").CombinedOutput()
		if !strings.Contains(string(out), "--interface") {
			env.asgi.gowsgiNo = "this gowsgi has no --interface flag: it cannot serve ASGI apps yet"
		}
	}
	env.asgi.loop, env.asgi.http, env.asgi.ws = "asyncio", "h11", "auto"
	if importable(ctx, "uvloop") {
		env.asgi.loop = "uvloop"
	}
	if importable(ctx, "httptools") {
		env.asgi.http = "httptools"
	}
	if importable(ctx, "websockets") {
		env.asgi.ws = "websockets"
	}
}

// importable reports whether Debian's Python can import module.
func importable(ctx context.Context, module string) bool {
	return exec.CommandContext(ctx, python, "-c", "import "+module).Run() == nil
}

// asgiServers are the ASGI contenders, 2 worker processes each but
// daphne, which has none.
func asgiServers() []server {
	return []server{
		{
			name: "gowsgi", asgi: true,
			note: "--interface asgi, 2 worker processes with an event loop each",
			argv: gowsgiASGIArgv,
		},
		{
			name: "uvicorn", asgi: true,
			note: "--workers 2; --loop, --http, --ws: the fastest installed",
			argv: func(env *runEnv, a app, addr string) []string {
				host, port := hostPort(addr)
				return []string{python, "-m", "uvicorn", "--workers", "2", "--host", host, "--port", port,
					"--loop", env.asgi.loop, "--http", env.asgi.http, "--ws", env.asgi.ws,
					"--no-access-log", "--log-level", "warning", a.target}
			},
		},
		{
			// --backlog: its default of 100 drops SYNs in the idle
			// WebSocket scenario's burst; uvicorn's is 2048.
			name: "hypercorn", asgi: true,
			note: "-w 2; -k uvloop if installed. Debian's 0.13.2 closes a keep-alive connection whose response ends before it parsed the request's end (an app that never calls receive(), as FastAPI's GET endpoints): wrk counts a read error per request",
			argv: func(env *runEnv, a app, addr string) []string {
				argv := []string{python, "-m", "hypercorn", "-w", "2"}
				if env.asgi.loop == "uvloop" {
					argv = append(argv, "-k", "uvloop")
				}
				return append(argv, "-b", addr, "--backlog", "2048", "--log-level", "warning", a.target)
			},
		},
		{
			// A Twisted endpoint string instead of -b/-p: only it takes a
			// backlog (Twisted's default is 50).
			name: "daphne", asgi: true,
			note: "ONE process (daphne has no workers), Twisted",
			argv: func(env *runEnv, a app, addr string) []string {
				host, port := hostPort(addr)
				return []string{python, "-m", "daphne", "-v", "0",
					"-e", fmt.Sprintf("tcp:port=%s:interface=%s:backlog=2048", port, host), a.target}
			},
		},
	}
}

// hostPort splits a server's address for the servers that take the host
// and the port apart; the command list's placeholder ADDR becomes PORT.
func hostPort(addr string) (host, port string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "127.0.0.1", "PORT"
	}
	return host, port
}

// gowsgiASGIArgv is gowsgi serving an ASGI app; nil until the build can.
func gowsgiASGIArgv(env *runEnv, a app, addr string) []string {
	if env.gowsgi == "" || env.asgi.gowsgiNo != "" {
		return nil
	}
	return []string{env.gowsgi, "serve", "--interface", "asgi", "--bind", addr, "--workers", "2",
		"--log-level", "warning", "--chdir", env.apps, "--python", python, a.target}
}

// isASGIServer reports whether name is one of the ASGI rows.
func isASGIServer(name string) bool {
	for _, s := range asgiServers() {
		if s.name == name {
			return true
		}
	}
	return false
}

// baseFor returns the server an app's tables are relative to: base for
// the WSGI apps (wsgiBase if gowsgi is missing), and for the ASGI apps
// base if it serves them and has figures, else uvicorn.
func baseFor(env *runEnv, base, wsgiBase string) func(app string) string {
	asgiBase := base
	if !isASGIServer(base) || (base == "gowsgi" && env.asgi.gowsgiNo != "") {
		asgiBase = asgiBaseFallback
	}
	return func(name string) string {
		for _, a := range apps {
			if a.name == name && a.asgi {
				return asgiBase
			}
		}
		return wsgiBase
	}
}

// idleWebSockets checks gowsgi's ws-idle cell: every socket still echoed,
// the Go process under 200 MB, and no worker with a thread per socket
// (fewer threads than 1% of the sockets). Fewer than 10,000 sockets in
// the run measure nothing. go-native's figure, if measured, is added.
func idleWebSockets(cells []cell) (string, bool, bool) {
	var c *cell
	for i := range cells {
		if cells[i].server == "gowsgi" && cells[i].app == "wsecho" && cells[i].scenario == "ws-idle" && cells[i].failed == "" {
			c = &cells[i]
		}
	}
	switch {
	case c == nil || c.mem == nil:
		return "", false, false
	case c.conns < 10000:
		return fmt.Sprintf("only %d sockets in this run (-ws-idle)", c.conns), false, false
	}
	figure := c.mem.describe("Go")
	if n := find(cells, "go-native", "wsecho", "ws-idle"); n != nil && n.mem != nil {
		// What net/http and the WebSocket library alone hold.
		figure += fmt.Sprintf("; go-native holds them in %s", fmtMB(n.mem.top.rss))
	}
	if c.starved > 0 {
		return fmt.Sprintf("%d of %d sockets did not echo at the end; %s", c.starved, c.conns, figure), false, true
	}
	met := c.mem.top.rss < 200*mb
	for _, w := range c.mem.children {
		met = met && w.threads < c.conns/100
	}
	return figure, met, true
}

// asgiH2 checks that gowsgi serves the ASGI hello over HTTP/2 (h2c) and
// names the peers that also do.
func asgiH2(cells []cell) (string, bool, bool) {
	var g *cell
	var peers []string
	for i := range cells {
		c := &cells[i]
		if c.app != "asgihello" || c.scenario != "h2" {
			continue
		}
		switch {
		case c.server == "gowsgi":
			g = c
		case c.counts() && anyPeer.match(c.server):
			peers = append(peers, fmt.Sprintf("%s %.0f req/s", c.server, c.rps))
		}
	}
	if g == nil || g.na {
		return "", false, false
	}
	others := "no peer speaks it here"
	if len(peers) > 0 {
		others = "peers over h2c too: " + strings.Join(peers, ", ")
	}
	if !g.counts() {
		return fmt.Sprintf("gowsgi: %.80s; %s", g.failed, others), false, true
	}
	return fmt.Sprintf("gowsgi %.0f req/s over h2c; %s", g.rps, others), true, true
}
