// Package testcert makes X.509 certificates and their keys for tests: a
// CA, a server's or a client's certificate signed by it, or a self-signed
// one, as Go values, PEM and files.
package testcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Pair is a certificate and its key.
type Pair struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	TLS     tls.Certificate // for a tls.Config's Certificates
	CertPEM []byte
	KeyPEM  []byte
}

// Options say how New makes a certificate; the zero value is a
// self-signed one, valid from an hour ago to an hour ahead, for client
// and server authentication, naming 127.0.0.1.
type Options struct {
	CA   *Pair // signs the certificate; nil: its own key does
	IsCA bool  // a CA's, which may sign others

	// Issuer, if not nil and CA is, is the issuer's name written in the
	// certificate, which its own key still signs: for tests that read the
	// names and never verify.
	Issuer *pkix.Name

	Serial              int64     // 0: one from the clock
	NotBefore, NotAfter time.Time // zero: an hour either side of now
}

// New makes a certificate for subject; it fails t on any error.
func New(t testing.TB, subject pkix.Name, o Options) *Pair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if o.Serial == 0 {
		o.Serial = time.Now().UnixNano()
	}
	if o.NotBefore.IsZero() {
		o.NotBefore = time.Now().Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = time.Now().Add(time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(o.Serial), Subject: subject,
		NotBefore: o.NotBefore, NotAfter: o.NotAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: o.IsCA,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	parent, signer := tmpl, key
	switch {
	case o.CA != nil:
		parent, signer = o.CA.Cert, o.CA.Key
	case o.Issuer != nil:
		parent = &x509.Certificate{Subject: *o.Issuer, SerialNumber: big.NewInt(1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := &Pair{Key: key,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})}
	if p.Cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	if p.TLS, err = tls.X509KeyPair(p.CertPEM, p.KeyPEM); err != nil {
		t.Fatal(err)
	}
	return p
}

// Write writes the certificate and the key, in PEM, to NAME.pem and
// NAME-key.pem in dir, and returns their paths.
func (p *Pair) Write(t testing.TB, dir, name string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, p.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, p.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
