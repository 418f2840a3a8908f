package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gowsgi/gowsgi/wsgi"
)

// checkTimeout bounds how long check waits for the app to import.
const checkTimeout = 5 * time.Minute

// check runs "gowsgi check [flags] MODULE:CALLABLE": it imports the app in
// one worker, as serve would with the same flags, environment and config
// file, reports on stdout which Python ran it, and stops. Exit status 0 if
// the app loaded, 4 (with the traceback on stderr) if it did not.
func check(args []string, stdout, stderr io.Writer) int {
	o, _, status := parseCommand("check", args, stdout, stderr)
	if o == nil {
		return status
	}
	log := slog.New(newLogHandler(o, stderr))
	o.logNotes(log)
	c, err := wsgi.NewContainer(wsgi.Config{
		App:        o.app,
		Python:     o.python,
		Dir:        o.chdir,
		PythonPath: o.pythonPath,
		Env:        o.env,
		Workers:    1,
		Threads:    1,
		Logger:     log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "gowsgi check: %v\n", err)
		return exitUsage
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGQUIT)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, checkTimeout)
	defer cancelTimeout()
	start := time.Now()
	err = c.Start(ctx)
	took := time.Since(start)
	if err != nil {
		var le *wsgi.LoadError
		if errors.As(err, &le) {
			fmt.Fprintf(stderr, "gowsgi check: cannot load app %q:\n%s\n", le.App, strings.TrimRight(le.Traceback, "\n"))
			return exitLoadError
		}
		fmt.Fprintf(stderr, "gowsgi check: cannot start the app %q: %v\n", o.app, err)
		return exitFailure
	}
	defer c.Close()
	in := c.Info()
	fmt.Fprintf(stdout, "app:     %s (%s)\n", o.app, in.App)
	fmt.Fprintf(stdout, "python:  %s (%s %s)\n", in.Python, in.Implementation, in.Version)
	fmt.Fprintf(stdout, "result:  ok, imported in a worker in %v\n", took.Round(time.Millisecond))
	return exitOK
}
