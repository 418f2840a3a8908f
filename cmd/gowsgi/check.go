package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"sync"
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
	o, _, status := parseServe(args, stdout, stderr)
	if o == nil {
		return status
	}
	info := new(startInfo)
	log := slog.New(&captureHandler{Handler: newLogHandler(o, stderr), info: info})
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
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
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
	python, version := info.get()
	fmt.Fprintf(stdout, "app:     %s\n", o.app)
	fmt.Fprintf(stdout, "python:  %s (%s)\n", python, version)
	// The app's type needs the worker to report it (see the report).
	fmt.Fprintf(stdout, "result:  ok, imported in a worker in %v\n", took.Round(time.Millisecond))
	return exitOK
}

// startInfo is what the container logs once it serves.
type startInfo struct {
	mu              sync.Mutex
	python, version string
}

func (s *startInfo) get() (python, version string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.python, s.version
}

// captureHandler passes records on and keeps the interpreter and version
// of the container's "serving WSGI app" record.
type captureHandler struct {
	slog.Handler
	info *startInfo
}

func (h *captureHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "serving WSGI app" {
		h.info.mu.Lock()
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "python":
				h.info.python = a.Value.String()
			case "version":
				h.info.version = a.Value.String()
			}
			return true
		})
		h.info.mu.Unlock()
	}
	return h.Handler.Handle(ctx, r)
}

func (h *captureHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &captureHandler{Handler: h.Handler.WithAttrs(attrs), info: h.info}
}

func (h *captureHandler) WithGroup(name string) slog.Handler {
	return &captureHandler{Handler: h.Handler.WithGroup(name), info: h.info}
}
