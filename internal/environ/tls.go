package environ

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"strings"
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
// Only a request with a certificate allocates, for these strings.
func addTLS(cs *tls.ConnectionState, s Sink) {
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
	s.Add("SSL_CLIENT_S_DN", c.Subject.String())
	if c.Subject.CommonName != "" {
		s.Add("SSL_CLIENT_S_DN_CN", c.Subject.CommonName)
	}
	s.Add("SSL_CLIENT_I_DN", c.Issuer.String())
	if c.Issuer.CommonName != "" {
		s.Add("SSL_CLIENT_I_DN_CN", c.Issuer.CommonName)
	}
	s.Add("SSL_CLIENT_M_SERIAL", strings.ToUpper(c.SerialNumber.Text(16)))
	const openSSLTime = "Jan _2 15:04:05 2006 GMT"
	s.Add("SSL_CLIENT_V_START", c.NotBefore.UTC().Format(openSSLTime))
	s.Add("SSL_CLIENT_V_END", c.NotAfter.UTC().Format(openSSLTime))
	s.Add("SSL_CLIENT_CERT", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
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
