package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of utime and stime in /proc/PID/stat: USER_HZ, which
// Linux fixes at 100 for user space whatever the kernel's own tick.
const userHZ = 100

// procStat is what the CPU table needs from one /proc/PID/stat.
type procStat struct {
	ppid  int
	ticks int64 // utime + stime, in 1/userHZ s
}

// parseStat reads the parent and the user+system CPU from the text of
// /proc/PID/stat. The command name may hold spaces and parentheses, so
// fields are counted from the last ')'.
func parseStat(b []byte) (procStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("stat %.40q: no ')' after the command name", b)
	}
	// After ')': state(3) ppid(4) ... utime(14) stime(15), 1-based in proc(5).
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return procStat{}, fmt.Errorf("stat %.40q: %d fields after the command name, want 13 or more", b, len(f))
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, fmt.Errorf("stat ppid %q: %v", f[1], err)
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("stat utime/stime %q: %v", s, err)
		}
		ticks += n
	}
	return procStat{ppid: ppid, ticks: ticks}, nil
}

// readStats reads every process's stat; processes that vanish or cannot
// be read are left out.
func readStats() map[int]procStat {
	all := map[int]procStat{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if st, err := parseStat(b); err == nil {
			all[pid] = st
		}
	}
	return all
}

// treeOf keeps root and its descendants from all.
func treeOf(all map[int]procStat, root int) map[int]procStat {
	children := map[int][]int{}
	for pid, st := range all {
		children[st.ppid] = append(children[st.ppid], pid)
	}
	tree := map[int]procStat{}
	stack := []int{root}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		st, ok := all[pid]
		if !ok {
			continue
		}
		tree[pid] = st
		stack = append(stack, children[pid]...)
	}
	return tree
}

// cpuSample is a process tree's CPU counters at one moment.
type cpuSample struct {
	root  int
	procs map[int]procStat
}

func sampleCPU(root int) cpuSample { return cpuSample{root: root, procs: treeOf(readStats(), root)} }

// cpuUse is the CPU a process tree spent between two samples.
type cpuUse struct {
	tree, top time.Duration
	workers   []time.Duration // each descendant of the top process, by pid
}

// cpuBetween is end minus start, process by process. A process born in
// between counts from zero; one that died in between is lost (its CPU is
// in no counter the end sample can read).
func cpuBetween(start, end cpuSample) cpuUse {
	var u cpuUse
	pids := make([]int, 0, len(end.procs))
	for pid := range end.procs {
		pids = append(pids, pid)
	}
	slices.Sort(pids)
	for _, pid := range pids {
		d := ticksDur(end.procs[pid].ticks - start.procs[pid].ticks)
		u.tree += d
		if pid == end.root {
			u.top = d
		} else {
			u.workers = append(u.workers, d)
		}
	}
	return u
}

func ticksDur(t int64) time.Duration { return time.Duration(t) * time.Second / userHZ }

// perRequest is d spread over n requests, in µs.
func perRequest(d time.Duration, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(d) / float64(time.Microsecond) / float64(n)
}

// renderCPU prints one table per scenario of the CPU each server's process
// tree spent per request, beside the app's own cost in the Python loop.
func renderCPU(cells []cell) string {
	alone := map[string]float64{} // app → µs per request in py-loop
	for _, c := range cells {
		if c.server == loopServer && c.rps > 0 {
			alone[c.app] = 1e6 / c.rps
		}
	}
	var scens []string
	groups := map[string][]cell{}
	for _, c := range cells {
		if c.server == loopServer || c.failed != "" || c.requests == 0 {
			continue
		}
		if _, ok := groups[c.scenario]; !ok {
			scens = append(scens, c.scenario)
		}
		groups[c.scenario] = append(groups[c.scenario], c)
	}
	var b strings.Builder
	for _, sc := range scens {
		g := groups[sc]
		// By app, then servers in run order: the app's rows side by side.
		slices.SortStableFunc(g, func(x, y cell) int { return strings.Compare(x.app, y.app) })
		what := "the wrk load, per completed request"
		if sc == "ws" {
			what = "the echo load, per echoed message"
		}
		fmt.Fprintf(&b, "\n#### CPU per request · %s\nµs of user+system CPU of the server's process tree during %s\n\n", sc, what)
		rows := [][]string{{"app", "server", "requests", "tree µs/req", "Go", "workers", "app alone", "overhead", "note"}}
		for _, c := range g {
			rows = append(rows, cpuRow(&c, alone))
		}
		writeTable(&b, rows)
	}
	return b.String()
}

// cpuRow is one cell's figures. Go and workers only for gowsgi rows, where
// the top process is the Go front end and its children the Python workers.
func cpuRow(c *cell, alone map[string]float64) []string {
	tree := perRequest(c.cpu.tree, c.requests)
	goCol, workers := "", ""
	if strings.HasPrefix(c.server, "gowsgi") {
		goCol = fmt.Sprintf("%.1f", perRequest(c.cpu.top, c.requests))
		each := make([]string, len(c.cpu.workers))
		for i, w := range c.cpu.workers {
			each[i] = fmt.Sprintf("%.1f", perRequest(w, c.requests))
		}
		workers = strings.Join(each, " + ")
	}
	aloneCol, over := "-", "-"
	if a, ok := alone[c.app]; ok {
		aloneCol, over = fmt.Sprintf("%.1f", a), fmt.Sprintf("%.1f", tree-a)
	}
	note := ""
	if c.starved > 0 {
		note = fmt.Sprintf("STARVED %d/%d: the served few's cost", c.starved, c.conns)
	}
	return []string{c.app, c.server, strconv.FormatInt(c.requests, 10), fmt.Sprintf("%.1f", tree), goCol, workers, aloneCol, over, note}
}
