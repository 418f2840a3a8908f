package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

// serve runs "gowsgi serve args" until a signal stops it, and returns the
// exit status.
func serve(args []string, stdout, stderr io.Writer) int {
	o, binds, status := parseServe(args, stdout, stderr)
	if o == nil {
		return status
	}
	logOut, logFile, err := serverLogOutput(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "gowsgi serve: %v\n", err)
		return exitUsage
	}
	if logFile != nil {
		defer logFile.Close()
	}
	log := slog.New(newLogHandler(o, logOut))
	o.logNotes(log)
	runtime.GOMAXPROCS(goProcs(o.goProcs, os.Getenv("GOMAXPROCS"), runtime.NumCPU()))
	h := new(serverHooks) // gunicorn's master hooks (hooks.go)
	c, err := newContainer(o, o.withLimits(wsgi.Config{
		App:         o.app,
		Python:      o.python,
		Dir:         o.chdir,
		PythonPath:  o.pythonPath,
		Env:         o.env,
		Workers:     o.workers,
		Threads:     o.threads,
		CPUAffinity: o.cpuAffinity,
		Prefix:      o.prefix,
		Logger:      log,

		Hooks:        o.gunicornConfig, // its worker hooks
		WorkerExited: h.childExit,
	}))
	if err != nil {
		fmt.Fprintf(stderr, "gowsgi serve: %v\n", err)
		return exitUsage
	}
	web, err := newWeb(o)
	if err != nil {
		fmt.Fprintf(stderr, "gowsgi serve: %v\n", err)
		return exitUsage
	}

	if err := h.start(o, c, log); err != nil {
		log.Error("cannot run the server hooks", "err", err)
		return exitFailure
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), o.gracefulTimeout)
		defer cancel()
		h.exit(ctx)
	}()

	// Listen before starting the workers, to fail fast when an address is
	// taken; connections wait in the backlog until the app is ready.
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close() // removes a unix socket file
		}
	}()
	for _, b := range binds {
		l, err := listen(b)
		if err != nil {
			log.Error("cannot listen", "err", err)
			return exitFailure
		}
		listeners = append(listeners, l)
		if err := setSocketMode(b, fs.FileMode(o.umask)); err != nil {
			log.Error("cannot listen", "err", err)
			return exitFailure
		}
	}

	op, err := startOps(o, c, log, stdout)
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitFailure
	}
	defer op.close()
	removePid, err := o.afterBind(binds, listeners, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		return exitFailure
	}
	defer removePid()

	// The first signal cancels start-up or starts a graceful stop; a
	// second one cuts the graceful stop short. SIGQUIT stops at once, as
	// gunicorn's quick shutdown (and keeps Go from dumping its goroutines).
	sigc := make(chan os.Signal, 2)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	defer signal.Stop(sigc)
	hup := notifyHangup() // SIGHUP reloads, once started
	defer signal.Stop(hup)
	first := make(chan os.Signal, 1)
	startCtx, cancelStart := context.WithCancel(context.Background())
	defer cancelStart()
	hardCtx, cancelHard := context.WithCancel(context.Background())
	defer cancelHard()
	go func() {
		s := <-sigc
		first <- s
		cancelStart()
		if s != syscall.SIGQUIT {
			s = <-sigc
			log.Warn("second signal: stopping at once", "signal", s)
		}
		cancelHard()
	}()

	if err := c.Start(startCtx); err != nil {
		var le *wsgi.LoadError
		switch {
		case errors.As(err, &le):
			fmt.Fprintf(stderr, "gowsgi serve: cannot load app %q:\n%s\n", le.App, strings.TrimRight(le.Traceback, "\n"))
			return exitLoadError
		case startCtx.Err() != nil:
			log.Info("stopped while starting", "signal", <-first)
			return exitOK
		}
		log.Error("cannot start the app", "app", o.app, "err", err)
		return exitFailure
	}

	op.setReady(true)
	srv := web.server(web.handler(op, c), log)
	reloading := &reloader{c: c, cert: web.cert, reopenLogs: func() { op.reopenLogs(log); reopenServerLog(logFile, log) }, log: log, hooks: h}
	served := make(chan error, len(listeners))
	for _, l := range listeners {
		log.Info("listening", "addr", listenAddr(l))
		go func() { served <- web.serve(srv, l) }()
	}
	// As gunicorn's arbiter, act on SIGHUP, SIGTTIN and the others only
	// once when_ready has returned (hup holds them meanwhile): a worker
	// added or a reload begun during when_ready would run its hooks
	// before it.
	h.whenReady(startCtx)
	go reloading.run(startCtx, hup, o.watchDir())

	status = exitOK
	select {
	case s := <-first:
		if s == syscall.SIGQUIT {
			quickStop(srv, c, log)
			return exitOK
		}
		op.setReady(false) // before the log line says so
		log.Info("stopping gracefully", "signal", s, "delay", o.shutdownDelay, "timeout", o.gracefulTimeout)
		lingerUnready(hardCtx, o.shutdownDelay, log)
	case err := <-served:
		op.setReady(false)
		log.Error("serving failed", "err", err)
		status = exitFailure
	}
	ctx, cancel := context.WithTimeout(hardCtx, o.gracefulTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("requests in flight were cut short", "err", err)
		srv.Close()
		c.Close()
		return exitFailure
	}
	if err := c.Shutdown(ctx); err != nil {
		// Every request was answered: what overstayed is a worker's own
		// exit (an ASGI lifespan shutdown that never returns, an atexit
		// that hangs). Killed, as gunicorn kills them, it is no failure
		// of the server's: the exit status stays 0.
		log.Warn("workers did not exit within --graceful-timeout: killed", "err", err)
	}
	log.Info("stopped")
	return status
}

// quickStop stops at once, on SIGQUIT: it closes the listeners and the
// connections, requests in flight or not, and kills the workers; the
// deferred closes remove the socket files, Close the runtime directory.
func quickStop(srv *http.Server, c container, log *slog.Logger) {
	log.Info("stopping at once", "signal", syscall.SIGQUIT)
	srv.Close()
	c.Close()
	log.Info("stopped")
}

// lingerUnready returns after delay, --shutdown-delay, during which the
// server serves on as before while /readyz fails, so that load balancers
// and Kubernetes, which poll it, stop sending requests before the
// listeners close; a second signal (hard done) cuts it short.
func lingerUnready(hard context.Context, delay time.Duration, log *slog.Logger) {
	if delay <= 0 {
		return
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		log.Info("shutdown delay over: draining")
	case <-hard.Done():
	}
}

// parseServe parses serve's command line. It returns nil options and the
// exit status if serve should not run: after -h, or a bad command line.
func parseServe(args []string, stdout, stderr io.Writer) (*serveOptions, []bindAddr, int) {
	return parseCommand("serve", args, stdout, stderr)
}

// parseCommand parses the command line of cmd, serve or check, which take
// the same flags. A bad command line gets one line on stderr, saying what
// is wrong and where help is.
func parseCommand(cmd string, args []string, stdout, stderr io.Writer) (*serveOptions, []bindAddr, int) {
	o := new(serveOptions)
	fs := newServeFlags(o)
	addASGIFlags(fs, o)
	fs.SetOutput(io.Discard) // errors are said here, in one line
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, cmd, fs)
		return nil, nil, exitOK
	}
	badUsage := func(format string, a ...any) (*serveOptions, []bindAddr, int) {
		fmt.Fprintf(stderr, "gowsgi %s: %s; see gowsgi %[1]s --help\n", cmd, fmt.Sprintf(format, a...))
		return nil, nil, exitUsage
	}
	if err != nil {
		return badUsage("%s", flagError(err))
	}
	// GUNICORN_CMD_ARGS, the environment and the --config file fill in what
	// the command line did not.
	app, cerr := loadConfig(fs, o, os.LookupEnv)
	if cerr != nil {
		return badUsage("%v", cerr)
	}
	if len(pos) == 0 && app != "" {
		pos = []string{app}
	}
	switch {
	case len(pos) == 0:
		return badUsage("no application: want MODULE:CALLABLE")
	case len(pos) > 1:
		return badUsage("one application, not %d: %q", len(pos), pos)
	}
	o.app = pos[0]
	binds := socketActivation()
	if len(o.binds) > 0 {
		binds = nil
	} else if len(binds) == 0 {
		o.binds = []string{defaultBind}
	}
	for _, s := range o.binds {
		b, err := parseBind(s)
		if err != nil {
			return badUsage("%v", err)
		}
		binds = append(binds, b)
	}
	if o.chdir != "" {
		if fi, err := os.Stat(o.chdir); err != nil || !fi.IsDir() {
			return badUsage("--chdir %q is not a directory", o.chdir)
		}
	}
	return o, binds, exitOK
}

// goProcs is the GOMAXPROCS of the server: --go-procs, else $GOMAXPROCS,
// else half the CPUs, at least one. The Go side of a request is a fraction
// of the app's, and Ps it does not need cost more than they give: between
// the workers' answers they go idle and are woken again, a futex hand-off
// each time. On 2 CPUs, two rounds of
// "bench/percall -app busy:application -env BUSY_US=N -go-procs P" with P 2
// and 1 alternated: the Go process's CPU per request went from 42-45 to
// 33-37 us (N 0), 73-87 to 58-59 (100), 96-116 to 72-78 (300) and 116-118
// to 87-98 (1000), and it served 1.05-1.18x the requests up to 300 us,
// 0.97-0.98x at 1000.
func goProcs(flag int, env string, cpus int) int {
	if flag > 0 {
		return flag
	}
	if n, err := strconv.Atoi(env); err == nil && n > 0 {
		return n
	}
	return max(1, cpus/2)
}
