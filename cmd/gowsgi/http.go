package main

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gowsgi/gowsgi/forwarded"
	"github.com/gowsgi/gowsgi/internal/environ"
	"github.com/gowsgi/gowsgi/wsgi"
)

// web is the serve command's HTTP layer: TLS, protocols, timeouts, header
// limits and trusted proxies.
type web struct {
	o       *serveOptions
	cert    *certificate // nil without TLS
	trusted forwarded.Trusted

	// --proxy-allow-from, --ca-certs and --cert-reqs (edge.go).
	proxyAllow forwarded.Trusted
	clientAuth tls.ClientAuthType
}

// newWeb checks the HTTP flags and reads the TLS certificate.
func newWeb(o *serveOptions) (*web, error) {
	w := &web{o: o}
	var err error
	if w.trusted, err = forwarded.ParseTrusted(o.forwardedAllowIPs.list); err != nil {
		return nil, errors.New("--forwarded-allow-ips: " + err.Error())
	}
	switch {
	case o.certFile != "" && o.keyFile != "":
		if w.cert, err = loadCertificate(o.certFile, o.keyFile); err != nil {
			return nil, err
		}
	case o.certFile != "" || o.keyFile != "":
		return nil, errors.New("--certfile and --keyfile go together")
	}
	if err := w.checkEdge(); err != nil {
		return nil, err
	}
	return w, nil
}

// server returns the http.Server for h: behind the proxies of
// --forwarded-allow-ips, HTTP/1.1 and HTTP/2 over TLS, h2c if asked.
func (w *web) server(h http.Handler, log *slog.Logger) *http.Server {
	o := w.o
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(o.h2c)
	srv := &http.Server{
		Handler:           h,
		Protocols:         protocols,
		ReadHeaderTimeout: o.headerTimeout,
		IdleTimeout:       o.keepAlive,
		MaxHeaderBytes:    int(min(o.limitHeaderSize, 1<<30)),
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ConnContext:       withRawConn,
	}
	if o.keepAlive == 0 {
		srv.SetKeepAlivesEnabled(false)
	}
	if w.cert != nil {
		srv.TLSConfig = w.withClientAuth(w.cert.tlsConfig())
	}
	if w.cert != nil && w.clientAuth != tls.NoClientCert {
		// A connection's requests share its client certificate: its
		// SSL_CLIENT_ variables are formatted once.
		srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			return environ.WithTLSCache(withRawConn(ctx, c))
		}
	}
	return srv
}

// serve serves srv on l, over TLS if there is a certificate.
func (w *web) serve(srv *http.Server, l net.Listener) error {
	l = w.proxyListener(l)
	if w.cert != nil {
		return srv.ServeTLS(l, "", "")
	}
	return srv.Serve(rawListener{l})
}

// readBodyTimeout is --body-timeout, or --header-timeout without it.
func (o *serveOptions) readBodyTimeout() time.Duration {
	if o.bodyTimeout < 0 {
		return o.headerTimeout
	}
	return o.bodyTimeout
}

// withLimits sets the worker lifecycle, overload and request body fields
// of cfg from the flags, whose 0 means no limit (or no body in memory)
// where Config's means the default.
func (o *serveOptions) withLimits(cfg wsgi.Config) wsgi.Config {
	noLimit := func(d int64) int64 {
		if d == 0 {
			return -1
		}
		return d
	}
	cfg.MaxRequestBody = noLimit(o.limitRequestBody)
	cfg.Timeout = time.Duration(noLimit(int64(o.timeout)))
	if o.reloadTimeout < 0 {
		cfg.ReloadTimeout = cfg.Timeout
	} else {
		cfg.ReloadTimeout = time.Duration(noLimit(int64(o.reloadTimeout)))
	}
	cfg.Backlog = int(noLimit(int64(o.maxQueued)))
	cfg.QueueTimeout = time.Duration(noLimit(int64(o.queueTimeout)))
	cfg.MaxRequests = int64(o.maxRequests)
	cfg.MaxRequestsJitter = int64(o.maxRequestsJitter)
	cfg.MaxWorkerMemory = o.maxWorkerMemory
	cfg.Preload = o.preload
	cfg.MaxMemoryBody = noLimit(o.bodyMemoryLimit)
	if o.bodyMemoryBudget >= 0 {
		cfg.MaxMemoryBodies = noLimit(o.bodyMemoryBudget)
	}
	if o.bodySpoolLimit >= 0 {
		cfg.MaxSpoolBytes = noLimit(o.bodySpoolLimit)
	}
	cfg.SpoolDir = o.bodySpoolDir
	return cfg
}
