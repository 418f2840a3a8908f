package forwarded

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/wsgi"
)

// seen is what the next handler saw.
type seen struct {
	remote, host, scheme string
}

func TestHandler(t *testing.T) {
	trusted, err := ParseTrusted([]string{"127.0.0.1", "::1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	untouched := seen{"203.0.113.9:4000", "example.com", "http"}
	cases := []struct {
		name   string
		peer   string
		header map[string]string
		want   seen
	}{
		{"no headers", "127.0.0.1:5000", nil, seen{"127.0.0.1:5000", "example.com", "http"}},
		{"untrusted peer", "203.0.113.9:4000", map[string]string{
			"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.test",
			"X-Forwarded-Port": "8443", "Forwarded": "for=1.2.3.4;proto=https;host=evil.test"}, untouched},
		{"xff", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "198.51.100.7"},
			seen{"198.51.100.7:0", "example.com", "http"}},
		{"xff rightmost untrusted", "10.1.1.1:5000", map[string]string{"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.2.2.2"},
			seen{"198.51.100.7:0", "example.com", "http"}},
		{"xff all trusted", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "10.3.3.3, 10.2.2.2"},
			seen{"10.3.3.3:0", "example.com", "http"}},
		{"xff repeated headers", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "6.6.6.6\n198.51.100.7"},
			seen{"198.51.100.7:0", "example.com", "http"}},
		{"xff garbage before a trusted hop", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "nonsense, 10.2.2.2"},
			seen{"10.2.2.2:0", "example.com", "http"}},
		{"xff garbage only", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "nonsense"},
			seen{"127.0.0.1:5000", "example.com", "http"}},
		{"xff ipv6", "[::1]:5000", map[string]string{"X-Forwarded-For": "2001:db8::5"},
			seen{"[2001:db8::5]:0", "example.com", "http"}},
		{"xff with port", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "198.51.100.7:1234"},
			seen{"198.51.100.7:1234", "example.com", "http"}},
		{"proto and host", "127.0.0.1:5000", map[string]string{"X-Forwarded-For": "198.51.100.7",
			"X-Forwarded-Proto": "https", "X-Forwarded-Host": "www.example.org"},
			seen{"198.51.100.7:0", "www.example.org", "https"}},
		{"proto list follows the client's hop", "127.0.0.1:5000", map[string]string{
			"X-Forwarded-For": "198.51.100.7, 10.2.2.2", "X-Forwarded-Proto": "https, http"},
			seen{"198.51.100.7:0", "example.com", "https"}},
		{"proto alone", "127.0.0.1:5000", map[string]string{"X-Forwarded-Proto": "HTTPS"},
			seen{"127.0.0.1:5000", "example.com", "https"}},
		{"unknown proto ignored", "127.0.0.1:5000", map[string]string{"X-Forwarded-Proto": "gopher"},
			seen{"127.0.0.1:5000", "example.com", "http"}},
		{"bad host ignored", "127.0.0.1:5000", map[string]string{"X-Forwarded-Host": "a b/c"},
			seen{"127.0.0.1:5000", "example.com", "http"}},
		{"forwarded", "127.0.0.1:5000", map[string]string{"Forwarded": `for=198.51.100.7;proto=https;host="www.example.org:8443"`},
			seen{"198.51.100.7:0", "www.example.org:8443", "https"}},
		{"forwarded wins over x-forwarded", "127.0.0.1:5000", map[string]string{"Forwarded": "for=198.51.100.7",
			"X-Forwarded-For": "192.0.2.1"}, seen{"198.51.100.7:0", "example.com", "http"}},
		{"forwarded chain", "10.1.1.1:5000", map[string]string{
			"Forwarded": `for=6.6.6.6;proto=http, for="[2001:db8::5]:4711";proto=https;host=a.example, for=10.2.2.2;proto=http;host=internal`},
			seen{"[2001:db8::5]:4711", "a.example", "https"}},
		{"forwarded unknown", "127.0.0.1:5000", map[string]string{"Forwarded": "for=unknown;proto=https"},
			seen{"127.0.0.1:5000", "example.com", "https"}},
		{"forwarded malformed ignored", "127.0.0.1:5000", map[string]string{"Forwarded": `for=198.51.100.7;proto="https`},
			seen{"127.0.0.1:5000", "example.com", "http"}},
		{"forwarded unquoted ipv6 ignored", "127.0.0.1:5000", map[string]string{"Forwarded": `for="2001:db8::5"`},
			seen{"127.0.0.1:5000", "example.com", "http"}},
		{"ipv4-mapped peer", "[::ffff:10.9.9.9]:5000", map[string]string{"X-Forwarded-For": "198.51.100.7"},
			seen{"198.51.100.7:0", "example.com", "http"}},
		{"unix socket peer", "@", map[string]string{"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https"},
			seen{"198.51.100.7:0", "example.com", "https"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got seen
			var orig *http.Request
			h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = seen{r.RemoteAddr, r.Host, "http"}
				if r.TLS != nil {
					got.scheme = "https"
				}
			}), trusted)
			r := httptest.NewRequest("GET", "http://example.com/", nil)
			r.RemoteAddr = tc.peer
			for k, v := range tc.header {
				for _, line := range strings.Split(v, "\n") {
					r.Header.Add(k, line)
				}
			}
			orig = r
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Errorf("handler saw %+v; want %+v", got, tc.want)
			}
			if orig.RemoteAddr != tc.peer || orig.Host != "example.com" || orig.TLS != nil {
				t.Errorf("the original request was changed: %s %s %v", orig.RemoteAddr, orig.Host, orig.TLS)
			}
		})
	}
}

// TestServerPort checks the port the client connected to, which a WSGI
// server gives as SERVER_PORT: X-Forwarded-Port and Forwarded's host= set
// it when the peer is trusted, and nothing changes when it is not.
func TestServerPort(t *testing.T) {
	trusted, err := ParseTrusted([]string{"127.0.0.1", "::1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		peer     string
		host     string // of the request; "example.com" if ""
		header   map[string]string
		wantHost string
		wantPort string // SERVER_PORT
	}{
		{"no headers", "127.0.0.1:5000", "", nil, "example.com", "80"},
		{"x-forwarded-port", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Port": "8443"}, "example.com:8443", "8443"},
		{"replaces the host's port", "127.0.0.1:5000", "example.com:8000", map[string]string{"X-Forwarded-Port": "9000"},
			"example.com:9000", "9000"},
		{"default port of http", "127.0.0.1:5000", "example.com:8000", map[string]string{"X-Forwarded-Port": "80"},
			"example.com", "80"},
		{"default port of https", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
			"example.com", "443"},
		{"80 under https", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Port": "80"},
			"example.com:80", "80"},
		{"with x-forwarded-host", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Host": "www.example.org:8080",
			"X-Forwarded-Port": "9090"}, "www.example.org:9090", "9090"},
		{"ipv6 host", "[::1]:5000", "", map[string]string{"X-Forwarded-Host": "[2001:db8::1]:8080", "X-Forwarded-Port": "81"},
			"[2001:db8::1]:81", "81"},
		{"leading zeros", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Port": "08080"}, "example.com:8080", "8080"},
		{"list follows the client's hop", "127.0.0.1:5000", "", map[string]string{
			"X-Forwarded-For": "198.51.100.7, 10.2.2.2", "X-Forwarded-Port": "8443, 80"}, "example.com:8443", "8443"},
		{"last of a list", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Port": "8443, 8080"}, "example.com:8080", "8080"},
		{"unix socket peer", "@", "", map[string]string{"X-Forwarded-Port": "8443"}, "example.com:8443", "8443"},
		{"untrusted peer", "203.0.113.9:4000", "", map[string]string{"X-Forwarded-Port": "8443"}, "example.com", "80"},
		{"untrusted peer keeps the host's port", "203.0.113.9:4000", "example.com:8000",
			map[string]string{"X-Forwarded-Port": "8443"}, "example.com:8000", "8000"},
		{"not a number", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Port": "https"}, "example.com", "80"},
		{"zero", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Port": "0"}, "example.com", "80"},
		{"too large", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Port": "65536"}, "example.com", "80"},
		{"signed", "127.0.0.1:5000", "", map[string]string{"X-Forwarded-Port": "+8443"}, "example.com", "80"},
		{"forwarded host with port", "127.0.0.1:5000", "", map[string]string{"Forwarded": `for=198.51.100.7;host="shop.example:8443"`},
			"shop.example:8443", "8443"},
		{"forwarded host without port", "127.0.0.1:5000", "example.com:8000", map[string]string{"Forwarded": "host=shop.example;proto=https"},
			"shop.example", "443"},
		{"forwarded wins over x-forwarded-port", "127.0.0.1:5000", "", map[string]string{"Forwarded": "for=198.51.100.7",
			"X-Forwarded-Port": "8443"}, "example.com", "80"},
		{"forwarded from untrusted peer", "203.0.113.9:4000", "", map[string]string{"Forwarded": `host="shop.example:8443"`},
			"example.com", "80"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var host, port string
			h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				host, port = r.Host, wsgi.Environ(r, "")["SERVER_PORT"]
			}), trusted)
			r := httptest.NewRequest("GET", "http://example.com/", nil)
			if tc.host != "" {
				r.Host = tc.host
			}
			r.RemoteAddr = tc.peer
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if host != tc.wantHost || port != tc.wantPort {
				t.Errorf("handler saw Host %q, SERVER_PORT %q; want %q, %q", host, port, tc.wantHost, tc.wantPort)
			}
		})
	}
}

// TestHTTPSDowngrade checks that a trusted proxy saying http removes the
// TLS of its own connection to the server.
func TestHTTPSDowngrade(t *testing.T) {
	trusted, _ := ParseTrusted([]string{"*"})
	var scheme string
	h := Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}), trusted)
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	r.RemoteAddr = "192.0.2.50:1000"
	r.Header.Set("X-Forwarded-Proto", "http")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if scheme != "http" {
		t.Errorf("scheme %s; want http", scheme)
	}
}

func TestParseTrusted(t *testing.T) {
	cases := []struct {
		entries []string
		in, out []string
		err     string
	}{
		{[]string{"127.0.0.1", "::1"}, []string{"127.0.0.1", "::1", "::ffff:127.0.0.1"}, []string{"127.0.0.2", "::2", "10.0.0.1"}, ""},
		{[]string{"10.0.0.0/8", " 2001:db8::/32 "}, []string{"10.255.0.1", "2001:db8::1"}, []string{"11.0.0.1", "2001:db9::1"}, ""},
		{[]string{"10.1.2.3/8"}, []string{"10.9.9.9"}, nil, ""},
		{[]string{"*"}, []string{"8.8.8.8", "2001:db8::1"}, nil, ""},
		{[]string{""}, nil, []string{"127.0.0.1"}, ""},
		{nil, nil, []string{"127.0.0.1"}, ""},
		{[]string{"127.0.0.1", "localhost"}, nil, nil, `"localhost" is not an IP address or CIDR`},
		{[]string{"10.0.0.0/33"}, nil, nil, `"10.0.0.0/33" is not an IP address or CIDR`},
	}
	for _, tc := range cases {
		tr, err := ParseTrusted(tc.entries)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTrusted(%q) error %v; want %q", tc.entries, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseTrusted(%q): %v", tc.entries, err)
			continue
		}
		for _, a := range tc.in {
			if !peerTrusted("["+a+"]:1", tr) {
				t.Errorf("%q does not trust %s", tc.entries, a)
			}
		}
		for _, a := range tc.out {
			if peerTrusted("["+a+"]:1", tr) {
				t.Errorf("%q trusts %s", tc.entries, a)
			}
		}
	}
}

func TestParseForwarded(t *testing.T) {
	cases := []struct {
		in   string
		want string // elements as "k=v;k=v|k=v", or "!" for malformed
	}{
		{`for=192.0.2.60;proto=http;by=203.0.113.43`, "by=203.0.113.43;for=192.0.2.60;proto=http"},
		{`For="[2001:db8:cafe::17]:4711"`, "for=[2001:db8:cafe::17]:4711"},
		{`for=192.0.2.43, for=198.51.100.17`, "for=192.0.2.43|for=198.51.100.17"},
		{` for = x`, "!"},
		{`for="a\"b"`, `for=a"b`},
		{`for=a;for=b`, "!"},
		{`for=a,,`, "!"},
		{`for=`, "!"},
		{`for="unterminated`, "!"},
		{``, ""},
	}
	for _, tc := range cases {
		elems, ok := parseForwarded([]string{tc.in})
		got := "!"
		if ok {
			var parts []string
			for _, e := range elems {
				var kv []string
				for _, k := range []string{"by", "for", "host", "proto"} {
					if v, ok := e[k]; ok {
						kv = append(kv, k+"="+v)
					}
				}
				parts = append(parts, strings.Join(kv, ";"))
			}
			got = strings.Join(parts, "|")
		}
		if got != tc.want {
			t.Errorf("parseForwarded(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
