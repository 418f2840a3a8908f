package asgi

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"testing"

	"github.com/gowsgi/gowsgi/internal/asgiws"
	"github.com/gowsgi/gowsgi/internal/marshal"
)

// mapScope is the http scope as a map, built from asgiws.Scope: what
// httpScope's bytes must decode to.
func mapScope(r *http.Request, prefix string) map[string]any {
	s := map[string]any(asgiws.Scope(r, prefix))
	delete(s, "subprotocols")
	s["type"] = "http"
	s["scheme"] = "http"
	if r.TLS != nil {
		s["scheme"] = "https"
	}
	s["method"] = r.Method
	ext := map[string]any{"http.response.pathsend": map[string]any{}}
	if trailersAllowed(r) {
		ext["http.response.trailers"] = map[string]any{}
	}
	if r.TLS != nil {
		ext["tls"] = asgiws.TLS(r.TLS)
	}
	s["extensions"] = ext
	return s
}

// decodeScope decodes a marshalled scope, its headers sorted (net/http's
// header map has no order across names).
func decodeScope(t *testing.T, b []byte) any {
	t.Helper()
	v, err := marshal.Decode(b)
	if err != nil {
		t.Fatalf("decoding the scope: %v", err)
	}
	d := v.(map[any]any)
	h := d["headers"].([]any)
	sort.SliceStable(h, func(i, j int) bool {
		return bytes.Compare(h[i].([]any)[0].([]byte), h[j].([]any)[0].([]byte)) < 0
	})
	return d
}

type unixAddr struct{}

func (unixAddr) Network() string { return "unix" }
func (unixAddr) String() string  { return "/run/app.sock" }

func TestHTTPScopeMatchesWebSocket(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		make   func() *http.Request
	}{
		{"plain GET", "", func() *http.Request { return httptest.NewRequest("GET", "/", nil) }},
		{"query, escapes, prefix", "/app", func() *http.Request {
			r := httptest.NewRequest("POST", "/app/a%20b/%E2%82%AC?q=1&r=%20", nil)
			r.Header.Add("X-Multi", "one")
			r.Header.Add("X-Multi", "two")
			r.Header.Set("Content-Type", "text/plain")
			return r
		}},
		{"not UTF-8 path", "", func() *http.Request { return httptest.NewRequest("GET", "/%FF%FE", nil) }},
		{"TLS, HTTP/2, server address", "", func() *http.Request {
			r := httptest.NewRequest("GET", "https://example.com/x", nil)
			r.TLS = &tls.ConnectionState{}
			r.ProtoMajor, r.ProtoMinor, r.Proto = 2, 0, "HTTP/2.0"
			a := &net.TCPAddr{IP: net.IPv6loopback, Port: 8443}
			return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, a))
		}},
		{"TE trailers, unix socket, no peer", "", func() *http.Request {
			r := httptest.NewRequest("GET", "/t", nil)
			r.Header.Set("TE", "gzip, trailers;q=1")
			r.RemoteAddr = "@"
			r.Host = ""
			return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, unixAddr{}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Container{}
			c.cfg.Prefix = tt.prefix
			r := tt.make()
			want, err := marshal.AppendValue(nil, mapScope(r, tt.prefix))
			if err != nil {
				t.Fatal(err)
			}
			got, want2 := decodeScope(t, c.httpScope(r)), decodeScope(t, want)
			if !reflect.DeepEqual(got, want2) {
				t.Errorf("httpScope decodes to\n%#v\nwant\n%#v", got, want2)
			}
		})
	}
}

// TestServerAddress checks appendServer's TCP fast path against what the
// address's String gives.
func TestServerAddress(t *testing.T) {
	for _, a := range []*net.TCPAddr{
		{IP: net.IPv4(127, 0, 0, 1), Port: 8000}, // 16 bytes: IPv4 in IPv6
		{IP: net.IP{10, 1, 2, 3}, Port: 80},
		{IP: net.IPv6loopback, Port: 65535},
		{IP: net.ParseIP("fe80::1"), Port: 443, Zone: "eth0"},
		{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 1},
		{Port: 8080}, // no IP: the String path
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, a))
		got, want := appendServer(nil, r), appendHostPort(nil, a.String())
		if !bytes.Equal(got, want) {
			t.Errorf("%v: appendServer = %q, want %q", a, got, want)
		}
	}
}
