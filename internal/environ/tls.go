package environ

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"sync/atomic"
)

// addTLS sends s the variables Apache's mod_ssl sets for a request over
// TLS (SSLOptions +StdEnvVars +ExportCertData), for apps that read the
// client's certificate:
//
//   - HTTPS: "on".
//   - SSL_PROTOCOL: "TLSv1.2" or "TLSv1.3".
//   - SSL_CLIENT_VERIFY: "SUCCESS" for a certificate verified against the
//     server's client CAs, "GENEROUS" for one that was not verified,
//     "NONE" without one.
//
// and, with a client certificate (its first, the client's own):
//
//   - SSL_CLIENT_S_DN, SSL_CLIENT_I_DN: the subject's and the issuer's
//     distinguished names, in RFC 2253's form as mod_ssl 2.4 writes them
//     ("CN=alice,O=Example,C=FR"), and SSL_CLIENT_S_DN_CN, SSL_CLIENT_I_DN_CN
//     their common names, if any.
//   - SSL_CLIENT_M_SERIAL: the serial number, upper-case hexadecimal.
//   - SSL_CLIENT_V_START, SSL_CLIENT_V_END: the validity, as OpenSSL
//     writes it ("Dec  2 13:47:46 2026 GMT").
//   - SSL_CLIENT_CERT: the certificate, PEM-encoded.
//
// Only a request with a certificate allocates, for these strings, and only
// the first of its connection's if ctx has the connection's WithTLSCache.
func addTLS(ctx context.Context, cs *tls.ConnectionState, s Sink) {
	s.Add("HTTPS", "on")
	switch cs.Version {
	case tls.VersionTLS13:
		s.Add("SSL_PROTOCOL", "TLSv1.3")
	case tls.VersionTLS12:
		s.Add("SSL_PROTOCOL", "TLSv1.2")
	case tls.VersionTLS11:
		s.Add("SSL_PROTOCOL", "TLSv1.1")
	case tls.VersionTLS10:
		s.Add("SSL_PROTOCOL", "TLSv1")
	}
	if len(cs.PeerCertificates) == 0 {
		s.Add("SSL_CLIENT_VERIFY", "NONE")
		return
	}
	if len(cs.VerifiedChains) > 0 {
		s.Add("SSL_CLIENT_VERIFY", "SUCCESS")
	} else {
		s.Add("SSL_CLIENT_VERIFY", "GENEROUS")
	}
	c := cs.PeerCertificates[0]
	var vars []string
	if tc, _ := ctx.Value(tlsCacheKey{}).(*tlsCache); tc != nil {
		if cv := tc.p.Load(); cv != nil && cv.cert == c {
			vars = cv.vars
		} else {
			vars = certVars(c)
			tc.p.Store(&cachedVars{cert: c, vars: vars})
		}
	} else {
		vars = certVars(c)
	}
	for i := 0; i+1 < len(vars); i += 2 {
		s.Add(vars[i], vars[i+1])
	}
}

// certVars are the SSL_CLIENT_ variables of c, as key, value pairs.
func certVars(c *x509.Certificate) []string {
	const openSSLTime = "Jan _2 15:04:05 2006 GMT"
	vars := make([]string, 0, 2*8)
	vars = append(vars, "SSL_CLIENT_S_DN", c.Subject.String())
	if c.Subject.CommonName != "" {
		vars = append(vars, "SSL_CLIENT_S_DN_CN", c.Subject.CommonName)
	}
	vars = append(vars, "SSL_CLIENT_I_DN", c.Issuer.String())
	if c.Issuer.CommonName != "" {
		vars = append(vars, "SSL_CLIENT_I_DN_CN", c.Issuer.CommonName)
	}
	return append(vars,
		"SSL_CLIENT_M_SERIAL", strings.ToUpper(c.SerialNumber.Text(16)),
		"SSL_CLIENT_V_START", c.NotBefore.UTC().Format(openSSLTime),
		"SSL_CLIENT_V_END", c.NotAfter.UTC().Format(openSSLTime),
		"SSL_CLIENT_CERT", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
}

// WithTLSCache returns ctx with a place for the client certificate
// variables of one connection, as an http.Server's ConnContext: its
// requests (HTTP/1 keep-alive or HTTP/2 streams, which share the
// connection's certificate) then format them once, not each.
func WithTLSCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, tlsCacheKey{}, new(tlsCache))
}

type tlsCacheKey struct{}

// tlsCache holds the variables of the connection's certificate.
type tlsCache struct{ p atomic.Pointer[cachedVars] }

type cachedVars struct {
	cert *x509.Certificate
	vars []string
}

// clientCert is the certificate of SSL_CLIENT_CERT, for NewRequest; nil
// if there is none, or it does not parse.
func clientCert(env map[string]string) *x509.Certificate {
	b, _ := pem.Decode([]byte(env["SSL_CLIENT_CERT"]))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil
	}
	return c
}
