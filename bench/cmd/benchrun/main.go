// Command benchrun is the gowsgi benchmark: in one run it starts every
// server on the same WSGI or ASGI apps, loads each with wrk (and the harness's own
// generators for what wrk cannot see), and prints one table per app and
// scenario with every figure as a ratio to gowsgi. Use bench/run.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		duration  = flag.Duration("duration", 3*time.Second, "load `time` per cell (wrk rounds to whole seconds); about 210 cells in a full run")
		quick     = flag.Bool("quick", false, "smoke test: hello app, keep-alive scenario only")
		appsF     = flag.String("apps", "", "comma-separated apps to run (default all)")
		serversF  = flag.String("servers", "", "comma-separated servers to run (default all)")
		scensF    = flag.String("scenarios", "", "comma-separated scenarios to run (default all)")
		base      = flag.String("base", "gowsgi", "server the ratios are relative to")
		repeat    = flag.Int("repeat", 1, "rounds over the whole matrix; each cell reports its median round")
		loopSecs  = flag.Float64("loop", 1, "seconds per app for the Python-loop limit (0: skip)")
		results   = flag.String("results", "bench/RESULTS.md", "file the run is appended to, relative to the repository root (empty: none)")
		gowsgiBin = flag.String("gowsgi", "", "prebuilt gowsgi binary (default: build ./cmd/gowsgi)")
		idleWS    = flag.Int("ws-idle", 10000, "WebSockets the ws-idle scenario holds open")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, options{
		duration: *duration, quick: *quick, apps: list(*appsF), servers: list(*serversF),
		scenarios: list(*scensF), base: *base, repeat: max(1, *repeat), loop: *loopSecs, results: *results, gowsgi: *gowsgiBin,
		idleWS: max(1, *idleWS),
	})
	stop()
	stopAll() // whatever a failed cell left behind
	os.Exit(code)
}

type options struct {
	duration                 time.Duration
	quick                    bool
	apps, servers, scenarios []string
	base                     string
	repeat                   int
	loop                     float64
	results, gowsgi          string
	idleWS                   int
}

func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func want(sel []string, name string) bool { return len(sel) == 0 || slices.Contains(sel, name) }

func run(ctx context.Context, o options) int {
	if o.quick {
		o.apps, o.scenarios = []string{"hello"}, []string{"keepalive"}
		o.loop = min(o.loop, 0.5)
	}
	root, err := findRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 2
	}
	tmp, err := os.MkdirTemp("", "gowsgi-bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 2
	}
	defer os.RemoveAll(tmp)
	env := &runEnv{
		root: root, bench: filepath.Join(root, "bench"), apps: filepath.Join(root, "bench", "apps"),
		tmp: tmp, static: filepath.Join(tmp, "static.bin"), duration: o.duration,
		postLua: filepath.Join(root, "bench", "lua", "post.lua"),
	}
	if err := os.WriteFile(env.static, []byte(strings.Repeat("s", 256<<10)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "benchrun:", err)
		return 2
	}
	setupGowsgi(ctx, env, o.gowsgi)
	setupASGI(ctx, env)
	env.asgi.idleWS = o.idleWS
	nofile() // the idle WebSocket scenario's servers inherit it
	wsgiBase := o.base
	if env.gowsgi == "" && o.base == "gowsgi" {
		// Ratios to nothing help no one: compare to the other
		// yardstick until gowsgi can be measured.
		wsgiBase = "gunicorn"
		fmt.Fprintf(os.Stderr, "benchrun: gowsgi unavailable (%s); ratios are to %s\n", env.gowsgiNo, wsgiBase)
	}
	baseOf := baseFor(env, o.base, wsgiBase)
	loadStart := loadavg()
	started := time.Now()

	var cells []cell
	descs := map[string]string{}
	var selApps []app
	for _, a := range apps {
		if want(o.apps, a.name) && !(a.mem && o.quick) {
			selApps = append(selApps, a)
		}
	}
	if o.loop > 0 && want(o.servers, loopServer) && want(o.scenarios, "keepalive") {
		cells = append(cells, pyLoop(ctx, env, selApps, o.loop)...)
	}
	var commands []string
	seenCmd := map[string]bool{} // by name and kind: gowsgi has a WSGI and an ASGI row
	// Rounds go over the whole matrix, so a burst of someone else's load
	// hits one sample of many servers rather than every sample of one.
	for round := 0; round < o.repeat; round++ {
		if o.repeat > 1 {
			fmt.Fprintf(os.Stderr, "benchrun: round %d of %d\n", round+1, o.repeat)
		}
		for _, a := range selApps {
			for _, sc := range scenarios(o.idleWS) {
				if !want(o.scenarios, sc.name) || !sc.applies(a) {
					continue
				}
				descs[sc.name] = sc.desc
				for _, srv := range servers() {
					if !want(o.servers, srv.name) || !srv.runs(a) || ctx.Err() != nil {
						continue
					}
					c := runCell(ctx, env, srv, sc, a)
					if c == nil {
						continue
					}
					cells = append(cells, *c)
					if argv := srv.argv(env, a, "ADDR"); argv != nil && !seenCmd[srv.name+kind(srv.asgi)] {
						seenCmd[srv.name+kind(srv.asgi)] = true
						commands = append(commands, fmt.Sprintf("- %s (%s): `%s`", srv.name, srv.note, shellJoin(argv)))
					}
				}
			}
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(os.Stderr, "benchrun: interrupted; partial results not recorded")
		return 130
	}
	cells = medianCells(cells)
	derive(cells)
	descs["keepalive"] += fmt.Sprintf("; a %d-connection probe mid-load marks STARVED the servers that leave new connections unanswered for %v (or 0.6x a shorter load)", probeConns, probeWait)
	table := render(cells, baseOf, descs) + renderTargets(cells) + renderCPU(cells)
	bases := wsgiBase + "'s (WSGI apps), " + baseOf("asgihello") + "'s (ASGI apps)"
	head := fmt.Sprintf("## %s — `bench/run %s`\n\n- machine: %s; load average before %s, after %s (others share these cores: indicative only)\n- %s\n- ratios: each figure divided by %s in the same table; a STARVED figure does not count\n- duration %v per cell, %d round(s) (median shown), total %v\n",
		started.UTC().Format("2006-01-02 15:04 UTC"), strings.Join(os.Args[1:], " "), machine(ctx), loadStart, loadavg(),
		versions(ctx, env), bases, o.duration, o.repeat, time.Since(started).Round(time.Second))
	if env.gowsgi == "" {
		head += "- gowsgi not measured: " + env.gowsgiNo + "\n"
	} else if env.asgi.gowsgiNo != "" {
		head += "- gowsgi's ASGI rows not measured: " + env.asgi.gowsgiNo + "\n"
	}
	cmds := "\nCommands (ADDR is a free loopback address, PORT its port, $BUILD the run's build directory; cwd bench/apps, PYTHONPATH=bench/apps):\n\n" + strings.Join(commands, "\n") +
		"\n- load: `wrk " + shellJoin(wrkArgs(env, "ADDR", app{path: "/"}, nil)) + "` (echo adds `-s bench/lua/post.lua`, close adds `-H 'Connection: close'`); h2: `h2load " +
		shellJoin(h2loadArgs(env, "ADDR", app{path: "/"})) + "`; ws, ws-idle: the harness's WebSocket generators (bench/internal/load, github.com/coder/websocket) on `ws://ADDR/`\n" +
		fmt.Sprintf("- Python-loop limit: `%s bench/apps/loop.py %g NAME=MODULE:APP[@PATH]...` (PATH: an ASGI app's request path)\n", python, o.loop) +
		"- busyN apps: the same commands (and a loop.py of their own) on busy:application with `BUSY_US=N` in the environment\n"
	// Paths of this machine's checkout and scratch directory mean nothing
	// in RESULTS.md.
	cmds = strings.NewReplacer(env.tmp+"/", "$BUILD/", env.root+"/", "").Replace(cmds)
	fmt.Print(head, table, cmds)
	if o.results != "" {
		path := filepath.Join(root, o.results)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err == nil {
			_, err = fmt.Fprint(f, "\n", head, table, cmds)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchrun:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, "benchrun: appended to", path)
	}
	return 0
}

// setupGowsgi builds the gowsgi CLI if its sources exist.
func setupGowsgi(ctx context.Context, env *runEnv, prebuilt string) {
	if prebuilt != "" {
		env.gowsgi, env.prebuilt = prebuilt, true
		return
	}
	srcs, _ := filepath.Glob(filepath.Join(env.root, "cmd", "gowsgi", "*.go"))
	if len(srcs) == 0 {
		env.gowsgiNo = "cmd/gowsgi has no Go files yet"
		return
	}
	bin, err := goBuild(ctx, env, "./cmd/gowsgi", "gowsgi")
	if err != nil {
		env.gowsgiNo = err.Error()
		return
	}
	env.gowsgi = bin
	if bin, err := goBuild(ctx, env, "./bench/cmd/gohello", "gohello"); err == nil {
		env.gohello = bin
	}
}

// runs reports whether srv is measured on a: an app of its kind, the
// one app of a variant, and the memory app unless left out of it.
func (srv server) runs(a app) bool {
	return (srv.anyKind || srv.asgi == a.asgi) && (len(srv.only) == 0 || slices.Contains(srv.only, a.name)) && !(srv.noMem && a.mem)
}

// runCell starts srv on a, runs sc against it and stops it. nil: srv does
// not apply to a.
func runCell(ctx context.Context, env *runEnv, srv server, sc scenario, a app) *cell {
	addr, err := freeAddr()
	if err != nil {
		return &cell{server: srv.name, app: a.name, scenario: sc.name, failed: err.Error()}
	}
	argv := srv.argv(env, a, addr)
	if argv != nil && argv[0] == env.gowsgi {
		argv = append(argv, sc.gowsgiArgs...)
	}
	if argv != nil && argv[0] == env.gohello && slices.Contains(sc.gowsgiArgs, "--h2c") {
		argv = append(argv, "-h2c")
	}
	if srv.path != nil {
		a.path = srv.path(env, a)
	}
	if argv == nil {
		switch {
		case strings.HasPrefix(srv.name, "gowsgi") && env.gowsgi == "":
			return &cell{server: srv.name, app: a.name, scenario: sc.name, failed: env.gowsgiNo}
		case srv.asgi && srv.name == "gowsgi":
			fmt.Fprintf(os.Stderr, "  %-12s %-8s %-9s not available: %s\n", srv.name, a.name, sc.name, env.asgi.gowsgiNo)
			return &cell{server: srv.name, app: a.name, scenario: sc.name, failed: env.asgi.gowsgiNo, na: true}
		}
		return nil
	}
	fail := func(err error) *cell {
		fmt.Fprintf(os.Stderr, "  %-12s %-8s %-9s FAILED %v\n", srv.name, a.name, sc.name, err)
		return &cell{server: srv.name, app: a.name, scenario: sc.name, failed: err.Error()}
	}
	logPath := filepath.Join(env.tmp, fmt.Sprintf("%s-%s-%s.log", srv.name, a.name, sc.name))
	p, err := startProc(argv, env.apps, append(serverEnv(env), a.env...), logPath)
	if err != nil {
		return fail(err)
	}
	defer p.stop()
	if err := waitReady(ctx, p, addr, a.path, 15*time.Second); err != nil {
		return fail(err)
	}
	c := sc.run(ctx, env, p, addr, a)
	c.server, c.scenario = srv.name, sc.name
	if c.failed == "" && p.exited() {
		c.failed = "server exited during the load: " + p.tail(3)
	}
	status := fmt.Sprintf("%8.0f %s p99 %-8s err %d", c.rps, rateUnit(sc.name), fmtDur(c.p99), c.errors)
	if c.rps == 0 {
		status = "RSS " + fmtMB(c.rss) // the memory scenarios measure no rate
	}
	if c.failed != "" {
		status = "FAILED " + c.failed
	} else if c.starved > 0 {
		status += fmt.Sprintf(" STARVED %d/%d", c.starved, c.conns)
	}
	fmt.Fprintf(os.Stderr, "  %-12s %-8s %-9s %s\n", srv.name, a.name, sc.name, status)
	return &c
}

// pyLoop measures each app called in a tight Python loop on one core. Apps
// with an environment of their own get a loop.py process each: the busy
// apps are one module, imported once per process.
func pyLoop(ctx context.Context, env *runEnv, as []app, secs float64) []cell {
	var shared []app
	var cells []cell
	for _, a := range as {
		switch {
		case a.mem, a.ws:
		case len(a.env) > 0:
			cells = append(cells, pyLoopRun(ctx, env, []app{a}, secs)...)
		default:
			shared = append(shared, a)
		}
	}
	if len(shared) > 0 {
		cells = append(pyLoopRun(ctx, env, shared, secs), cells...)
	}
	return cells
}

// pyLoopRun runs loop.py once on as, with the first app's environment.
func pyLoopRun(ctx context.Context, env *runEnv, as []app, secs float64) []cell {
	args := []string{filepath.Join(env.apps, "loop.py"), strconv.FormatFloat(secs, 'g', -1, 64)}
	for _, a := range as {
		spec := a.name + "=" + a.target
		if a.asgi && a.path != "/" {
			spec += "@" + a.path // loop.py's ASGI scope for the app's path
		}
		args = append(args, spec)
	}
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Dir = env.apps
	cmd.Env = append(append(os.Environ(), serverEnv(env)...), as[0].env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	var cells []cell
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		rps, _ := strconv.ParseFloat(f[1], 64)
		cells = append(cells, cell{server: loopServer, app: f[0], scenario: "keepalive", rps: rps,
			note: "limit: the app alone, one core, no HTTP"})
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchrun: python loop (%s): %v\n", strings.Join(args[2:], " "), err)
	}
	return cells
}

// shellJoin quotes argv for copying into a shell.
func shellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, s := range argv {
		if s == "" || strings.ContainsAny(s, " '\"$;&|<>*?()") {
			q[i] = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		} else {
			q[i] = s
		}
	}
	return strings.Join(q, " ")
}

// kind names a server's or an app's interface.
func kind(asgi bool) string {
	if asgi {
		return "asgi"
	}
	return "wsgi"
}
