package main

import (
	"crypto/tls"
	"fmt"
	"sync/atomic"
)

// A certificate is a TLS key pair read from files, which reload reads
// again: the server's tls.Config asks it for the current one on each
// handshake, so connections made after a reload use the new pair.
type certificate struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
	clientCAs         *clientCAs // --ca-certs, read again with the pair (edge.go); nil without
}

// loadCertificate reads the PEM certificate chain and key.
func loadCertificate(certFile, keyFile string) (*certificate, error) {
	c := &certificate{certFile: certFile, keyFile: keyFile}
	if err := c.reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// reload reads the files again. If they do not make a valid pair, the
// current one stays and the error names the files.
func (c *certificate) reload() error {
	pair, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("--certfile %s --keyfile %s: %w", c.certFile, c.keyFile, err)
	}
	if err := c.clientCAs.reload(); err != nil {
		return err
	}
	c.current.Store(&pair)
	return nil
}

func (c *certificate) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}

// tlsConfig returns the server's TLS configuration, which offers HTTP/2
// and HTTP/1.1 (net/http adds them when serving TLS).
func (c *certificate) tlsConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: c.get}
}
