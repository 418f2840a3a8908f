package main

import (
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/gowsgi/gowsgi/wsgi"
)

// ops is what serve runs around the container: static files in front of
// it and the readiness the admin server reports.
type ops struct {
	ready atomic.Bool
	mux   *staticMux
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
	for _, m := range o.static {
		log.Info("serving static files", "url", m.prefix+"/", "dir", m.dir)
	}
	return op, mux, nil
}

// setReady sets what readiness reports: true once the app serves, false
// again once a graceful stop began.
func (op *ops) setReady(ready bool) { op.ready.Store(ready) }

// close releases what startOps opened.
func (op *ops) close() {
	op.mux.Close()
}
