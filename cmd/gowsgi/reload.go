package main

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A reloader reloads the app, and the TLS certificate if any, on SIGHUP
// and when --reload sees a source file change, and adds and removes
// workers on SIGTTIN and SIGTTOU: one change at a time. SIGHUP also
// reopens the log files (reopenLogs), first; SIGUSR1 only reopens them.
type reloader struct {
	c          container
	cert       *certificate // nil without TLS
	reopenLogs func()       // nil if there are none
	log        *slog.Logger
	hooks      *serverHooks // nil: none
	mu         sync.Mutex
}

// reload reloads the certificate, then the app. A certificate or app that
// does not load is logged and the current one serves on.
func (r *reloader) reload(ctx context.Context, why string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.log.Info("reloading", "why", why)
	if r.cert != nil {
		if err := r.cert.reload(); err != nil {
			r.log.Error("TLS certificate not reloaded: the old one serves on", "err", err)
		} else {
			r.log.Info("TLS certificate reloaded", "certfile", r.cert.certFile)
		}
	}
	// gunicorn's on_reload runs before the new workers start.
	r.hooks.onReload(ctx)
	// Container.Reload logs the outcome, with the traceback of an app
	// that does not import.
	r.c.Reload(ctx)
}

// notifyHangup relays SIGHUP, which reloads, SIGUSR1, which reopens the
// log files only, and SIGTTIN and SIGTTOU, which add and remove a worker.
func notifyHangup() chan os.Signal {
	hup := make(chan os.Signal, 8)
	signal.Notify(hup, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGTTIN, syscall.SIGTTOU)
	return hup
}

// run reopens the log files and reloads on each SIGHUP, reopens them only
// on SIGUSR1, and, if watch is not "", reloads whenever a *.py file under
// watch changes; it adds a worker on SIGTTIN and removes one on SIGTTOU
// (never the last); until ctx is done.
func (r *reloader) run(ctx context.Context, hup <-chan os.Signal, watch string) {
	if watch != "" {
		r.log.Info("reloading when the sources change", "dir", watch)
		go watchSources(ctx, watch, pollInterval, r.log, func(path string) {
			r.reload(ctx, path+" changed")
		})
	}
	for {
		select {
		case <-ctx.Done():
			return
		case s := <-hup:
			switch s {
			case syscall.SIGTTIN:
				r.resize(ctx, +1)
			case syscall.SIGTTOU:
				r.resize(ctx, -1)
			case syscall.SIGUSR1:
				if r.reopenLogs != nil {
					r.reopenLogs()
				}
			default:
				// Log rotation waits for nothing: the reload may take
				// as long as the app's import.
				if r.reopenLogs != nil {
					r.reopenLogs()
				}
				r.reload(ctx, s.String())
			}
		}
	}
}

// resize adds or removes a worker. Container.SetWorkers logs the outcome.
func (r *reloader) resize(ctx context.Context, delta int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.c.NumWorkers() + delta
	if n < 1 {
		r.log.Warn("SIGTTOU ignored: the last worker stays")
		return
	}
	if r.c.SetWorkers(ctx, n) == nil {
		r.hooks.nworkersChanged(ctx, n, n-delta)
	}
}

// pollInterval is how often --reload looks at the source files.
const pollInterval = time.Second

// fileStamp is what tells a file changed.
type fileStamp struct {
	mtime time.Time
	size  int64
}

// watchSources calls changed with a file's path whenever a *.py file under
// dir is created, modified or removed, looking every interval, until ctx is
// done. Hidden directories, __pycache__ and virtual environments (which
// hold a pyvenv.cfg) are not watched.
func watchSources(ctx context.Context, dir string, interval time.Duration, log *slog.Logger, changed func(path string)) {
	last := scanSources(dir, log)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := scanSources(dir, log)
		if path, ok := firstChange(last, now); ok {
			changed(path)
		}
		last = now
	}
}

// firstChange returns a file that differs between two scans.
func firstChange(before, after map[string]fileStamp) (string, bool) {
	for path, st := range after {
		if old, ok := before[path]; !ok || old != st {
			return path, true
		}
	}
	for path := range before {
		if _, ok := after[path]; !ok {
			return path, true
		}
	}
	return "", false
}

// scanSources stamps the *.py files under dir.
func scanSources(dir string, log *slog.Logger) map[string]fileStamp {
	files := make(map[string]fileStamp)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil // gone or unreadable meanwhile: skip it
		}
		if d.IsDir() {
			name := d.Name()
			if path != dir && (strings.HasPrefix(name, ".") || name == "__pycache__" || name == "node_modules") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "pyvenv.cfg")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".py") {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			files[path] = fileStamp{fi.ModTime(), fi.Size()}
		}
		return nil
	})
	if err != nil {
		log.Warn("--reload cannot read the sources", "dir", dir, "err", err)
	}
	return files
}

// watchDir is the directory --reload watches, or "" without --reload.
func (o *serveOptions) watchDir() string {
	switch {
	case !o.reload:
		return ""
	case o.chdir != "":
		return o.chdir
	}
	return "."
}
