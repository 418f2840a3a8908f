package environ

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/testcert"
)

// newCert makes a certificate for subject, signed by its own key (the
// issuer's name is issuer's, which is enough for the environ).
func newCert(t *testing.T, subject, issuer pkix.Name, serial int64) *x509.Certificate {
	t.Helper()
	return testcert.New(t, subject, testcert.Options{Issuer: &issuer, Serial: serial,
		NotBefore: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), NotAfter: time.Date(2027, 12, 25, 23, 0, 0, 0, time.UTC)}).Cert
}

// TestMapTLS checks mod_ssl's variables for TLS requests: with a verified
// client certificate, one not verified, none, and none without TLS.
func TestMapTLS(t *testing.T) {
	alice := newCert(t, pkix.Name{CommonName: "alice", Organization: []string{"Example, Inc."}, Country: []string{"FR"}},
		pkix.Name{CommonName: "Test CA", Organization: []string{"Example"}}, 0xBEEF01)
	anon := newCert(t, pkix.Name{Organization: []string{"NoCN"}}, pkix.Name{Organization: []string{"NoCN CA"}}, 7)
	certPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: alice.Raw}))
	cases := []struct {
		name   string
		cs     *tls.ConnectionState
		want   map[string]string
		absent []string
	}{
		{"no TLS", nil, nil, []string{"HTTPS", "SSL_PROTOCOL", "SSL_CLIENT_VERIFY", "SSL_CLIENT_S_DN"}},
		{"TLS, no certificate", &tls.ConnectionState{Version: tls.VersionTLS13},
			map[string]string{"HTTPS": "on", "SSL_PROTOCOL": "TLSv1.3", "SSL_CLIENT_VERIFY": "NONE"},
			[]string{"SSL_CLIENT_S_DN", "SSL_CLIENT_CERT", "SSL_CLIENT_M_SERIAL"}},
		{"verified", &tls.ConnectionState{Version: tls.VersionTLS12, PeerCertificates: []*x509.Certificate{alice},
			VerifiedChains: [][]*x509.Certificate{{alice}}}, map[string]string{
			"HTTPS": "on", "SSL_PROTOCOL": "TLSv1.2", "SSL_CLIENT_VERIFY": "SUCCESS",
			"SSL_CLIENT_S_DN": `CN=alice,O=Example\, Inc.,C=FR`, "SSL_CLIENT_S_DN_CN": "alice",
			"SSL_CLIENT_I_DN": "CN=Test CA,O=Example", "SSL_CLIENT_I_DN_CN": "Test CA",
			"SSL_CLIENT_M_SERIAL": "BEEF01",
			"SSL_CLIENT_V_START":  "Mar  4 05:06:07 2026 GMT", "SSL_CLIENT_V_END": "Dec 25 23:00:00 2027 GMT",
			"SSL_CLIENT_CERT": certPEM,
		}, nil},
		{"not verified", &tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{anon}},
			map[string]string{"SSL_CLIENT_VERIFY": "GENEROUS", "SSL_CLIENT_S_DN": "O=NoCN", "SSL_CLIENT_I_DN": "O=NoCN CA", "SSL_CLIENT_M_SERIAL": "7"},
			[]string{"SSL_CLIENT_S_DN_CN", "SSL_CLIENT_I_DN_CN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.TLS = tc.cs
			env := Map(r, "")
			for k, v := range tc.want {
				if env[k] != v {
					t.Errorf("%s = %q; want %q", k, env[k], v)
				}
			}
			for _, k := range tc.absent {
				if v, ok := env[k]; ok {
					t.Errorf("%s = %q; want none", k, v)
				}
			}
			if tc.cs == nil {
				return
			}
			// And back, as the adapter reads an environ.
			back, err := NewRequest(env, http.NoBody)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(tc.cs.PeerCertificates); back.TLS == nil || len(back.TLS.PeerCertificates) != n ||
				n > 0 && !back.TLS.PeerCertificates[0].Equal(tc.cs.PeerCertificates[0]) ||
				(len(back.TLS.VerifiedChains) > 0) != (len(tc.cs.VerifiedChains) > 0) {
				t.Errorf("NewRequest's TLS: %+v", back.TLS)
			}
		})
	}
}

// TestBuildAllocsTLS holds a TLS request without a client certificate to
// Build's allocations without TLS: none for common headers.
func TestBuildAllocsTLS(t *testing.T) {
	r := httptest.NewRequest("GET", "/a", nil)
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13}
	r.Header = http.Header{"User-Agent": {"curl"}}
	s := &bufSink{b: make([]byte, 0, 4096)}
	if got := testing.AllocsPerRun(100, func() {
		s.b = s.b[:0]
		Build(r, "", r.URL.Path, s)
	}); got > 0 {
		t.Errorf("Build allocated %v times per TLS request; want 0", got)
	}
	if !strings.Contains(string(s.b), "SSL_CLIENT_VERIFYNONE") {
		t.Errorf("no SSL_CLIENT_VERIFY NONE in %q", s.b)
	}
}

// TestTLSCache: with WithTLSCache in the request's context, a
// connection's certificate is formatted once: its later requests get the
// same variables, in the same order, without allocating, and another
// certificate on the connection gets its own.
func TestTLSCache(t *testing.T) {
	alice := newCert(t, pkix.Name{CommonName: "alice"}, pkix.Name{CommonName: "Test CA"}, 3)
	bob := newCert(t, pkix.Name{CommonName: "bob"}, pkix.Name{CommonName: "Test CA"}, 4)
	build := func(r *http.Request) string {
		s := &bufSink{b: make([]byte, 0, 4096)}
		Build(r, "", r.URL.Path, s)
		return string(s.b)
	}
	plain := httptest.NewRequest("GET", "/a", nil)
	plain.Header = http.Header{"User-Agent": {"curl"}}
	plain.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{alice}}
	want := build(plain) // without a cache
	r := plain.WithContext(WithTLSCache(plain.Context()))
	if got := build(r); got != want {
		t.Fatalf("the first request with the cache: %q; want %q", got, want)
	}
	s := &bufSink{b: make([]byte, 0, 4096)}
	if n := testing.AllocsPerRun(100, func() {
		s.b = s.b[:0]
		Build(r, "", r.URL.Path, s)
	}); n > 0 {
		t.Errorf("Build allocated %v times for a later request of the connection; want 0", n)
	}
	if string(s.b) != want {
		t.Errorf("a later request: %q; want %q", s.b, want)
	}
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: []*x509.Certificate{bob}}
	if got := build(r); !strings.Contains(got, "SSL_CLIENT_S_DN_CNbob") || strings.Contains(got, "alice") {
		t.Errorf("another certificate on the connection: %q; want bob's alone", got)
	}
}
