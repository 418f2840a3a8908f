package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gowsgi/gowsgi/bench/internal/load"
)

// wsMessage is what every WebSocket sends and expects back: 64 bytes of
// text, a small chat or event message.
var wsMessage = bytes.Repeat([]byte("w"), 64)

// wsIdleTimeouts bound the idle scenario: each handshake, all of them,
// and the echo of every socket at the end.
const (
	wsDialTimeout = 10 * time.Second
	wsOpenTimeout = 2 * time.Minute
	wsEchoTimeout = 30 * time.Second
)

// wsScenarios load the WebSocket app.
func wsScenarios(idle int) []scenario {
	return []scenario{
		{name: "ws", only: []string{"wsecho"}, run: wsCell,
			desc: fmt.Sprintf("%d WebSockets, each sending a %d-byte text message and awaiting its echo before the next (no compression); msg/s are echoes, p50/p99 their round trips; STARVED: sockets that got no echo at all", conns, len(wsMessage))},
		// gowsgi's --max-streams (1000 by default) caps the sockets a
		// worker holds; past it they wait. The peers have no such cap.
		{name: "ws-idle", only: []string{"wsecho"}, run: wsIdleCell,
			gowsgiArgs: []string{"--max-streams", strconv.Itoa(idle)},
			desc:       fmt.Sprintf("%d WebSockets opened and held silent for the load's duration (gowsgi rows add --max-streams %d): RSS then (the note splits it by process, with threads), and each socket must still echo once at the end (STARVED: those that did not)", idle, idle)},
	}
}

// rateUnit names what a scenario's rate counts.
func rateUnit(scen string) string {
	if scen == "ws" {
		return "msg/s"
	}
	return "req/s"
}

func wsURL(addr string, a app) string { return "ws://" + addr + a.path }

// wsCell drives the echo load. The CPU table divides by the echoes.
func wsCell(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
	c := cell{app: a.name}
	pid := p.cmd.Process.Pid
	var rss int64
	rssDone := during(ctx, env.duration, 0.8, func() { rss = treeRSS(pid) })
	cpu0, self0 := sampleCPU(pid), selfCPU()
	r := load.RunWS(ctx, load.WSConfig{URL: wsURL(addr, a), Conns: conns, Duration: env.duration, Message: wsMessage})
	c.cpu = cpuBetween(cpu0, sampleCPU(pid))
	self := selfCPU() - self0
	<-rssDone
	if len(r.Latencies) == 0 {
		c.failed = fmt.Sprintf("no echo on any of %d WebSockets: %v", conns, r.Err)
		return c
	}
	c.rps, c.errors, c.rss, c.requests = r.MPS(), r.Errors, rss, int64(len(r.Latencies))
	c.p50, c.p99 = load.Percentile(r.Latencies, 50), load.Percentile(r.Latencies, 99)
	c.starved, c.conns = r.Starved(), conns
	// The generator shares the cores: when it costs as much per message as
	// the server, the rate is partly its own.
	c.note = fmt.Sprintf("generator %.1f µs CPU/msg", perRequest(self, c.requests))
	return c
}

// selfCPU is the harness's own user+system CPU so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// wsIdleCell opens env.asgi.idleWS WebSockets, holds them for the load's
// duration, samples the server's memory process by process, and checks
// that every socket still echoes.
func wsIdleCell(ctx context.Context, env *runEnv, p *proc, addr string, a app) cell {
	c := cell{app: a.name}
	n := env.asgi.idleWS
	// The harness holds n sockets and the server as many: both need the
	// descriptors (the server inherits the harness's limit).
	if lim := nofile(); lim < uint64(n)+256 {
		c.failed = fmt.Sprintf("RLIMIT_NOFILE is %d: too low for %d sockets; raise the hard limit", lim, n)
		return c
	}
	before := sampleMem(p.cmd.Process.Pid)
	octx, cancel := context.WithTimeout(ctx, wsOpenTimeout)
	t0 := time.Now()
	idle := load.OpenWSIdle(octx, wsURL(addr, a), n, wsDialTimeout)
	cancel()
	defer idle.Close()
	opened := time.Since(t0)
	t := time.NewTimer(env.duration)
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	t.Stop()
	mem := sampleMem(p.cmd.Process.Pid)
	echoed := idle.EchoAll(ctx, wsMessage, wsEchoTimeout)
	c.rss, c.mem = mem.total(), &mem
	c.starved, c.conns = n-echoed, n
	c.note = fmt.Sprintf("opened %d/%d in %s, %d echoed at the end; %s; %s", idle.Opened, n,
		opened.Round(10*time.Millisecond), echoed, mem.describe(topName(env, p)), perSocket(before, mem, idle.Opened, topName(env, p)))
	if idle.Failed > 0 {
		c.note += fmt.Sprintf("; %d handshakes failed, first: %.160v", idle.Failed, idle.Err)
	}
	return c
}

// perSocket is the growth from before to after divided by the n sockets:
// "per socket +40KB, Go +36KB".
func perSocket(before, after treeMem, n int, top string) string {
	if n <= 0 {
		return ""
	}
	kb := func(d int64) string { return fmt.Sprintf("%+.0fKB", float64(d)/1024/float64(n)) }
	return fmt.Sprintf("per socket %s, %s %s", kb(after.total()-before.total()), top, kb(after.top.rss-before.top.rss))
}

// topName is what the top process of a server's tree is called in notes:
// gowsgi's is the Go process.
func topName(env *runEnv, p *proc) string {
	if env.gowsgi != "" && p.cmd.Path == env.gowsgi {
		return "Go"
	}
	return "top"
}

// nofile raises the harness's soft RLIMIT_NOFILE to its hard limit and
// returns it. Raising it explicitly matters: Go raises its own soft limit
// at start but restores the original one in the servers it starts,
// unless the program set the limit itself.
func nofile() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	r.Cur = r.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0
	}
	return r.Cur
}

// procMem is one process's resident memory and threads.
type procMem struct {
	pid     int
	rss     int64 // bytes
	threads int
}

// treeMem is a server's process tree: the top process and its
// descendants (the workers), by pid.
type treeMem struct {
	top      procMem
	children []procMem
}

func sampleMem(root int) treeMem {
	var t treeMem
	tree := treeOf(readStats(), root)
	pids := make([]int, 0, len(tree))
	for pid := range tree {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	for _, pid := range pids {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
		if err != nil {
			continue
		}
		m := parseStatus(b)
		m.pid = pid
		if pid == root {
			t.top = m
		} else {
			t.children = append(t.children, m)
		}
	}
	return t
}

func (t treeMem) total() int64 {
	n := t.top.rss
	for _, c := range t.children {
		n += c.rss
	}
	return n
}

// describe is the tree in a note: "Go 40MB 9 threads; workers 30MB 1
// thread + 31MB 1 thread".
func (t treeMem) describe(top string) string {
	s := fmt.Sprintf("%s %s %s", top, fmtMB(t.top.rss), threads(t.top.threads))
	if len(t.children) == 0 {
		return s
	}
	each := make([]string, len(t.children))
	for i, c := range t.children {
		each[i] = fmt.Sprintf("%s %s", fmtMB(c.rss), threads(c.threads))
	}
	return s + "; children " + strings.Join(each, " + ")
}

func threads(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

// parseStatus reads VmRSS and Threads from the text of /proc/PID/status;
// a missing line leaves its figure 0.
func parseStatus(b []byte) procMem {
	var m procMem
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		switch k {
		case "VmRSS":
			kb, _ := strconv.ParseInt(f[0], 10, 64)
			m.rss = kb << 10
		case "Threads":
			m.threads, _ = strconv.Atoi(f[0])
		}
	}
	return m
}
