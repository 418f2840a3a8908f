package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"

	"github.com/gowsgi/gowsgi/accesslog"
	"github.com/gowsgi/gowsgi/forwarded"
	"github.com/gowsgi/gowsgi/internal/proxyproto"
)

// edgeOptions are gunicorn's flags for what comes with a connection: the
// PROXY protocol header of a load balancer before it, and the client's
// certificate in its TLS handshake.
type edgeOptions struct {
	proxyProtocol  proxyModeValue
	proxyAllowFrom replaceList
	caCerts        string
	certReqs       certReqsValue
}

// addEdgeFlags adds --access-logformat, --proxy-protocol,
// --proxy-allow-from, --ca-certs and --cert-reqs to fs, writing into o.
func addEdgeFlags(fs *flag.FlagSet, o *serveOptions) {
	e := &o.edgeOptions
	e.proxyAllowFrom = replaceList{list: []string{"127.0.0.1", "::1"}}
	e.certReqs = -1
	fs.Var((*logTemplateValue)(&o.accessLogFormat), "access-logformat", "write the access log in gunicorn's access_log_format `FORMAT` (%(h)s %(r)s %({x-real-ip}i)s ...: every atom of gunicorn's); turns the access log on, to stdout or --access-logfile (default: none; see --access-log)")
	fs.Var(&e.proxyProtocol, "proxy-protocol", "read a PROXY protocol header (HAProxy's, v1 or v2; AWS NLB, nginx's proxy_protocol) at the start of each connection from --proxy-allow-from, whose client becomes REMOTE_ADDR; a connection without one is served as is; --proxy-protocol=v1 or =v2 takes only that version (default off)")
	fs.Var(&e.proxyAllowFrom, "proxy-allow-from", "comma-separated `IPS` and CIDRs that may send a PROXY header (others get 403); * allows all; unix socket peers always may (default 127.0.0.1,::1)")
	fs.Var((*stringValue)(&e.caCerts), "ca-certs", "verify client certificates against the PEM CA certificates in `FILE`, and require one (see --cert-reqs); the client's subject is SSL_CLIENT_S_DN in the environ; read again on SIGHUP (default: none)")
	fs.Var(&e.certReqs, "cert-reqs", "client certificates, as gunicorn's `N` (Python's ssl.CERT_*): 0 none asked for, 1 optional (verified if given), 2 required (default: 2 with --ca-certs, else 0)")
}

// logTemplateValue is --access-logformat, checked as it is set.
type logTemplateValue string

func (v *logTemplateValue) String() string { return string(*v) }

func (v *logTemplateValue) Set(s string) error {
	if _, err := accesslog.ParseTemplate(s); err != nil {
		return err
	}
	*v = logTemplateValue(s)
	return nil
}

// accessLogTemplate is --access-logformat's template, nil without it.
func (o *serveOptions) accessLogTemplate() *accesslog.Template {
	if o.accessLogFormat == "" {
		return nil
	}
	t, _ := accesslog.ParseTemplate(o.accessLogFormat) // checked by Set
	return t
}

// proxyModeValue is --proxy-protocol: off, or the versions taken (auto is
// both, as gunicorn's; 1 or 2).
type proxyModeValue struct {
	on      bool
	version int
}

func (p *proxyModeValue) IsBoolFlag() bool { return true }

func (p *proxyModeValue) String() string {
	switch {
	case !p.on:
		return "off"
	case p.version == 0:
		return "auto"
	}
	return fmt.Sprintf("v%d", p.version)
}

func (p *proxyModeValue) Set(s string) error {
	switch strings.ToLower(s) {
	case "true", "1", "on", "yes", "auto":
		*p = proxyModeValue{on: true}
	case "false", "0", "off", "no":
		*p = proxyModeValue{}
	case "v1":
		*p = proxyModeValue{on: true, version: 1}
	case "v2":
		*p = proxyModeValue{on: true, version: 2}
	default:
		return fmt.Errorf("%q is not off, auto, v1 or v2", s)
	}
	return nil
}

// certReqsValue is --cert-reqs: 0, 1 or 2; -1 until set.
type certReqsValue int

func (c *certReqsValue) String() string {
	if *c < 0 {
		return ""
	}
	return fmt.Sprint(int(*c))
}

func (c *certReqsValue) Set(s string) error {
	switch s {
	case "0", "CERT_NONE":
		*c = 0
	case "1", "CERT_OPTIONAL":
		*c = 1
	case "2", "CERT_REQUIRED":
		*c = 2
	default:
		return fmt.Errorf("%q is not 0 (none), 1 (optional) or 2 (required)", s)
	}
	return nil
}

// proxyListener wraps l to read PROXY headers, if --proxy-protocol is on;
// the header must come within --header-timeout.
func (w *web) proxyListener(l net.Listener) net.Listener {
	if !w.o.proxyProtocol.on {
		return l
	}
	timeout := w.o.headerTimeout
	if timeout == 0 {
		timeout = -1
	}
	allow := w.proxyAllow
	return &proxyproto.Listener{Listener: l, Allow: func(a net.Addr) bool {
		if ta, ok := a.(*net.TCPAddr); ok {
			return allow.Contains(ta.AddrPort().Addr())
		}
		return true // a unix socket peer, as gunicorn's
	}, Timeout: timeout, Version: w.o.proxyProtocol.version}
}

// checkEdge checks the edge flags, and reads --ca-certs.
func (w *web) checkEdge() error {
	o := w.o
	var err error
	if w.proxyAllow, err = forwarded.ParseTrusted(o.proxyAllowFrom.list); err != nil {
		return errors.New("--proxy-allow-from: " + strings.TrimPrefix(err.Error(), "forwarded: "))
	}
	if o.caCerts == "" && o.certReqs <= 0 {
		return nil
	}
	if w.cert == nil {
		return errors.New("--ca-certs and --cert-reqs need --certfile and --keyfile")
	}
	w.clientAuth = tls.RequireAndVerifyClientCert
	switch o.certReqs {
	case 0:
		w.clientAuth = tls.NoClientCert
	case 1:
		w.clientAuth = tls.VerifyClientCertIfGiven
	}
	if o.caCerts == "" {
		return nil // the system's CAs, as gunicorn's ssl.create_default_context
	}
	cas := &clientCAs{file: o.caCerts}
	if err := cas.reload(); err != nil {
		return err
	}
	w.cert.clientCAs = cas
	return nil
}

// clientCAs are the CA certificates of --ca-certs, which SIGHUP reads
// again with the key pair (certificate.reload).
type clientCAs struct {
	file string
	pool atomic.Pointer[x509.CertPool]
}

// reload reads the file; if it has no certificate, the current pool
// stays and the error names the file. A nil *clientCAs has nothing to do.
func (c *clientCAs) reload() error {
	if c == nil {
		return nil
	}
	pemBytes, err := os.ReadFile(c.file)
	if err != nil {
		return fmt.Errorf("--ca-certs: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return fmt.Errorf("--ca-certs %s: no PEM certificate in the file", c.file)
	}
	c.pool.Store(pool)
	return nil
}

// withClientAuth sets cfg's client certificate verification. With
// --ca-certs, each handshake gets a copy of cfg with the current CAs, so
// that a reload applies to the connections after it; the copy's
// NextProtos are those net/http gives its own copy of cfg (h2 first),
// which the handshake's config must name itself.
func (w *web) withClientAuth(cfg *tls.Config) *tls.Config {
	cfg.ClientAuth = w.clientAuth
	cas := w.cert.clientCAs
	if cas == nil || w.clientAuth == tls.NoClientCert {
		return cfg
	}
	cfg.NextProtos = []string{"h2", "http/1.1"}
	base := cfg.Clone()
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		c := base.Clone()
		c.ClientCAs = cas.pool.Load()
		return c, nil
	}
	return cfg
}
