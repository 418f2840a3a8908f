package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gowsgi/gowsgi/accesslog"
	"github.com/gowsgi/gowsgi/admin"
)

// ops is what serve runs around the container: static files in front of
// it, the access log, and the admin server with its metrics.
type ops struct {
	// ready is what /readyz reports: set once the app serves, cleared when
	// a graceful stop begins. (Seam: once lifecycle.go has the server's
	// readiness, admin.Config.Ready should read that instead.)
	ready     atomic.Bool
	mux       *staticMux
	alog      accesslog.Config
	accessLog *accesslog.File // nil unless --access-logfile names a file
	closers   []io.Closer
}

// startOps prepares what o asks for around c: the static mounts, the
// access log and the admin server. (web.handler composes them.)
func startOps(o *serveOptions, c container, log *slog.Logger, stdout io.Writer) (*ops, error) {
	op := new(ops)
	mux, err := newStaticMux(o.static, o.staticDotfiles)
	if err != nil {
		return nil, err
	}
	op.mux = mux
	op.closers = append(op.closers, mux)
	for _, m := range o.static {
		log.Info("serving static files", "url", m.prefix+"/", "dir", m.dir)
	}
	format, out, file, err := accessLogOutput(o, stdout)
	if err != nil {
		op.close()
		return nil, err
	}
	if file != nil {
		op.accessLog = file
		op.closers = append(op.closers, file)
	}
	op.alog = accesslog.Config{Format: format, Template: o.accessLogTemplate(), Output: out}
	if o.admin != "" {
		m := admin.NewMetrics()
		op.alog.Observe = func(r *accesslog.Record) { m.Observe(r.Method, r.Status, r.Duration) }
		if err := op.serveAdmin(o.admin, admin.Config{Stats: c.Stats, Metrics: m, Ready: op.ready.Load, Title: o.app}, log); err != nil {
			op.close()
			return nil, err
		}
	}
	return op, nil
}

// serveAdmin serves the admin endpoints on addr (as --bind's) until close.
func (op *ops) serveAdmin(addr string, cfg admin.Config, log *slog.Logger) error {
	b, err := parseBind(addr)
	if err != nil {
		return fmt.Errorf("--admin: %w", err)
	}
	l, err := listen(b)
	if err != nil {
		return fmt.Errorf("--admin: %w", err)
	}
	h := admin.New(cfg)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("admin listening", "addr", listenAddr(l))
	go srv.Serve(l)
	// The status page's charts sample the server until close.
	ctx, stop := context.WithCancel(context.Background())
	go h.Run(ctx)
	op.closers = append(op.closers, srv, closeFunc(stop))
	return nil
}

// closeFunc is an io.Closer that calls the func.
type closeFunc func()

func (f closeFunc) Close() error { f(); return nil }

// setReady sets what readiness reports: true once the app serves, false
// again once a graceful stop began.
func (op *ops) setReady(ready bool) { op.ready.Store(ready) }

// reopenLogs reopens the access log file, if there is one, after log
// rotation moved it: on SIGHUP, as nginx does on SIGUSR1. If it cannot,
// lines go on to the file it had.
func (op *ops) reopenLogs(log *slog.Logger) {
	if op.accessLog == nil {
		return
	}
	if err := op.accessLog.Reopen(); err != nil {
		log.Error("access log not reopened: it goes on to the file it had", "err", err)
		return
	}
	log.Info("access log reopened", "file", op.accessLog.Path())
}

// close releases what startOps opened.
func (op *ops) close() {
	for _, c := range op.closers {
		c.Close()
	}
}
