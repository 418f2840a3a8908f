package main

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gowsgi/gowsgi/bench/internal/load"
)

// cell is one server × app × scenario measurement.
type cell struct {
	server, app, scenario string
	rps                   float64
	p50, p99              time.Duration
	errors                int64
	rss                   int64    // bytes, server's process tree near the end of the load
	starved, conns        int      // connections never answered, out of conns
	memUp, memDown        int64    // the memory scenario: RSS growth in bytes
	topIdle               int64    // the memory scenario: the top process's idle RSS
	cpu                   cpuUse   // the process tree's CPU during the wrk load
	requests              int64    // wrk's completed requests, the CPU table's divisor
	mem                   *treeMem // the idle WebSocket scenario: RSS and threads by process
	note                  string
	failed                string // why there is no figure at all
	na                    bool   // failed because the server cannot run it at all (not a failure)
}

// counts reports whether the figure may be compared: every connection
// was served and the cell ran.
func (c *cell) counts() bool { return c.failed == "" && c.starved == 0 }

// scenario is one way of loading a server. only, if set, limits the apps.
type scenario struct {
	name string
	desc string
	only []string
	// gowsgiArgs are added to every gowsgi command (its variants and
	// go-native) for this scenario.
	gowsgiArgs []string
	run        func(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell
}

const (
	conns      = 64
	idleConns  = 2000
	slowConns  = 200
	probeConns = 64
	probeWait  = time.Second
)

// applies reports whether sc loads a: the apps it names, or if it names
// none every app not kept for scenarios of its own (memory, WebSocket).
func (sc scenario) applies(a app) bool {
	if len(sc.only) > 0 {
		return slices.Contains(sc.only, a.name)
	}
	return !a.mem && !a.ws
}

// scenarios lists every scenario; idleWS is the idle WebSocket
// scenario's number of sockets.
func scenarios(idleWS int) []scenario {
	return append([]scenario{
		{name: "keepalive", desc: "wrk -t2 -c64, keep-alive", run: func(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
			return wrkCell(ctx, env, p, addr, a, nil)
		}},
		{name: "close", only: []string{"hello"}, desc: "wrk -t2 -c64 -H 'Connection: close': a new connection per request",
			run: func(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
				return wrkCell(ctx, env, p, addr, a, []string{"-H", "Connection: close"})
			}},
		{name: "idle2000", only: []string{"hello"}, desc: "keep-alive load while 2,000 idle keep-alive connections are held open", run: idleCell},
		{name: "slow200", only: []string{"hello"}, desc: "keep-alive load while 200 clients trickle requests and read slowly", run: slowCell},
		{name: "mix-clean", only: []string{"hello"}, desc: "Go load generator, 64 keep-alive conns, all fast: the baseline of mix",
			run: func(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
				return genCell(ctx, env, p, addr, a, "")
			}},
		{name: "mix", only: []string{"hello"}, desc: "as mix-clean, 1% of requests sleep 100 ms; p50/p99 are the fast requests'",
			run: func(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
				return genCell(ctx, env, p, addr, a, "/sleep")
			}},
		{name: "h2", only: []string{"hello", "asgihello"}, gowsgiArgs: h2Args, run: h2Cell,
			desc: fmt.Sprintf("h2load -t2 -c%d -m%d: HTTP/2 without TLS (h2c, prior knowledge; gowsgi rows add %s), %d connections with %d requests in flight on each; a server that does not speak HTTP/2 has no figure",
				h2Conns, h2Streams, strings.Join(h2Args, " "), h2Conns, h2Streams)},
		{name: "mem", only: []string{"big"}, desc: "RSS at rest, and its peak during one 1 GB upload and one 1 GB download (target: +64 MB at most)", run: memCell},
	}, wsScenarios(idleWS)...)
}

// during runs f after frac of the load's duration, unless ctx ends first.
func during(ctx context.Context, d time.Duration, frac float64, f func()) chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(time.Duration(float64(d) * frac))
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
			f()
		}
	}()
	return done
}

// loadSeconds is the load's duration in whole seconds, as wrk and h2load
// take it.
func loadSeconds(env *runEnv) int { return max(1, int(env.duration.Round(time.Second)/time.Second)) }

// runLoad runs a load tool to its end and samples the RSS of the server's
// process tree near the end of the load.
func runLoad(ctx context.Context, env *runEnv, p *proc, tool string, args []string) (out []byte, rss int64, err error) {
	rssDone := during(ctx, env.duration, 0.8, func() { rss = treeRSS(p.cmd.Process.Pid) })
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err = cmd.CombinedOutput()
	<-rssDone
	return out, rss, err
}

func wrkArgs(env *runEnv, addr string, a app, extra []string) []string {
	args := []string{"-t2", "-c" + strconv.Itoa(conns), "-d" + strconv.Itoa(loadSeconds(env)) + "s", "--latency", "--timeout", "2s"}
	args = append(args, extra...)
	if a.post {
		args = append(args, "-s", env.postLua)
	}
	return append(args, "http://"+addr+a.path)
}

// wrkCell drives the server with wrk. A probe opens 64 more connections in
// the middle of the load: wrk only sees the connections the server chose to
// serve, the probe sees whether a new client is served at all.
func wrkCell(ctx context.Context, env *runEnv, p *proc, addr string, a app, extra []string) cell {
	c := cell{app: a.name}
	answered := -1
	// The probe must finish while wrk still holds its connections: once
	// wrk stops, even a starving server gets round to the probe.
	wait := min(probeWait, env.duration*6/10)
	probeDone := during(ctx, env.duration, 0.2, func() {
		answered = load.Probe(ctx, addr, a.path, probeConns, wait)
	})
	cpu0 := sampleCPU(p.cmd.Process.Pid)
	out, rss, err := runLoad(ctx, env, p, "wrk", wrkArgs(env, addr, a, extra))
	cpu := cpuBetween(cpu0, sampleCPU(p.cmd.Process.Pid))
	<-probeDone
	if err != nil && strings.Contains(string(out), "unable to connect") && answered >= 0 {
		// wrk gives up when its first connect fails: a server that stopped
		// accepting (waitress past its connection_limit) served no one.
		c.rss, c.starved, c.conns = rss, probeConns-answered, probeConns
		c.note = "wrk could not connect"
		if c.starved == 0 {
			c.failed = "wrk could not connect, but the probe was served"
		}
		return c
	}
	if err != nil {
		c.failed = fmt.Sprintf("wrk: %v: %.200s", err, out)
		return c
	}
	r, err := parseWrk(string(out))
	if err != nil {
		c.failed = err.Error()
		return c
	}
	c.rps, c.p50, c.p99, c.errors, c.rss = r.RPS, r.P50, r.P99, r.Errors, rss
	c.cpu, c.requests = cpu, r.Requests
	if answered >= 0 {
		c.starved, c.conns = probeConns-answered, probeConns
	}
	return c
}

func idleCell(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
	idle := load.OpenIdle(ctx, addr, a.path, idleConns, time.Second)
	defer idle.Close()
	c := wrkCell(ctx, env, p, addr, a, nil)
	c.note = fmt.Sprintf("idle open %d/%d at end (dialed %d, answered %d)",
		idle.StillOpen(), idleConns, idle.Opened, idle.Served)
	return c
}

func slowCell(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
	sctx, cancel := context.WithCancel(ctx)
	st := load.Slow(sctx, addr, a.path, slowConns, 20*time.Millisecond)
	// Let the slow clients take hold before the measured load starts.
	time.Sleep(time.Second)
	c := wrkCell(ctx, env, p, addr, a, nil)
	cancel()
	st.Wait()
	c.note = fmt.Sprintf("slow clients: %d responses, %d failed", st.Completed.Load(), st.Failed.Load())
	return c
}

// genCell uses the harness's own generator, which keeps the fast and slow
// requests' latencies apart and counts responses per connection.
func genCell(ctx context.Context, env *runEnv, p *proc, addr string, a app, slowPath string) cell {
	c := cell{app: a.name}
	var rss int64
	rssDone := during(ctx, env.duration, 0.8, func() { rss = treeRSS(p.cmd.Process.Pid) })
	r := load.Run(ctx, load.Config{Addr: addr, Conns: conns, Duration: env.duration,
		Path: a.path, SlowPath: slowPath, SlowEvery: 100})
	<-rssDone
	c.rps, c.errors, c.rss = r.RPS(), r.Errors, rss
	c.p50, c.p99 = load.Percentile(r.Fast, 50), load.Percentile(r.Fast, 99)
	c.starved, c.conns = r.Starved(), conns
	if slowPath != "" {
		c.note = fmt.Sprintf("slow: %d done, p50 %s", len(r.Slow), fmtDur(load.Percentile(r.Slow, 50)))
	}
	if r.Reopened > 0 {
		c.note = joinNote(c.note, fmt.Sprintf("server closed %d keep-alive conns", r.Reopened))
	}
	return c
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "; " + b
}
