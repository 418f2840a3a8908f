package asgi

import (
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/internal/testcert"
)

// TestTLSExtension: over TLS, with a client certificate, the app's scope
// has extensions["tls"] as the ASGI TLS spec has it; without TLS it has
// none.
func TestTLSExtension(t *testing.T) {
	ts := start(t, "spec:app", nil)
	cert := testcert.New(t, pkix.Name{CommonName: "alice", Organization: []string{"Example"}}, testcert.Options{}).TLS
	srv := httptest.NewUnstartedServer(ts.c)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAnyClientCert, MinVersion: tls.VersionTLS13}
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).TLSClientConfig.Certificates = []tls.Certificate{cert}

	var scope struct {
		Scheme     string
		Extensions map[string]json.RawMessage
	}
	resp, err := client.Get(srv.URL + "/scope")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(body, &scope); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var ext struct {
		ServerCert      *string  `json:"server_cert"`
		ClientCertChain []string `json:"client_cert_chain"`
		ClientCertName  *string  `json:"client_cert_name"`
		ClientCertError *string  `json:"client_cert_error"`
		TLSVersion      int      `json:"tls_version"`
		CipherSuite     int      `json:"cipher_suite"`
	}
	raw, ok := scope.Extensions["tls"]
	if !ok {
		t.Fatalf("scope over TLS has no tls extension: %s", body)
	}
	if err := json.Unmarshal(raw, &ext); err != nil {
		t.Fatal(err)
	}
	if scope.Scheme != "https" || ext.TLSVersion != tls.VersionTLS13 || ext.CipherSuite == 0 ||
		ext.ClientCertName == nil || *ext.ClientCertName != "CN=alice,O=Example" ||
		ext.ClientCertError != nil || ext.ServerCert != nil || len(ext.ClientCertChain) != 1 ||
		!strings.HasPrefix(ext.ClientCertChain[0], "-----BEGIN CERTIFICATE-----\n") {
		t.Errorf("scheme %q, tls extension %s", scope.Scheme, raw)
	}

	_, plain := ts.get(t, "/scope")
	if strings.Contains(plain, `"tls"`) {
		t.Errorf("a scope without TLS has a tls extension: %s", plain)
	}
}
