package main

import (
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/gowsgi/gowsgi/accesslog"
	"github.com/gowsgi/gowsgi/wsgi"
)

// ops is what serve runs around the container: static files in front of
// it and the readiness the admin server reports.
type ops struct {
	ready   atomic.Bool
	mux     *staticMux
	closers []io.Closer
}

// startOps prepares what o asks for around c and returns it with the
// handler to serve.
func startOps(o *serveOptions, c *wsgi.Container, log *slog.Logger, stdout io.Writer) (*ops, http.Handler, error) {
	op := new(ops)
	mux, err := newStaticMux(o.static, c)
	if err != nil {
		return nil, nil, err
	}
	op.mux = mux
	op.closers = append(op.closers, mux)
	for _, m := range o.static {
		log.Info("serving static files", "url", m.prefix+"/", "dir", m.dir)
	}
	format, out, closer, err := accessLogOutput(o, stdout)
	if err != nil {
		op.close()
		return nil, nil, err
	}
	if closer != nil {
		op.closers = append(op.closers, closer)
	}
	handler := accesslog.New(accesslog.Config{Format: format, Output: out}, mux)
	return op, handler, nil
}

// setReady sets what readiness reports: true once the app serves, false
// again once a graceful stop began.
func (op *ops) setReady(ready bool) { op.ready.Store(ready) }

// close releases what startOps opened.
func (op *ops) close() {
	for _, c := range op.closers {
		c.Close()
	}
}
