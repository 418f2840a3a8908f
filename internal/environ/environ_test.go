package environ

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestMap(t *testing.T) {
	type req = func() *http.Request
	get := func(target string) *http.Request { return httptest.NewRequest("GET", target, nil) }
	cases := []struct {
		name   string
		req    req
		script string
		want   map[string]string
		absent []string
	}{
		{
			name: "basic",
			req:  func() *http.Request { return get("http://example.com/a/b?x=1&y=%20") },
			want: map[string]string{
				"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/a/b",
				"QUERY_STRING": "x=1&y=%20", "SERVER_NAME": "example.com", "SERVER_PORT": "80",
				"SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "example.com", "wsgi.url_scheme": "http",
				"REMOTE_ADDR": "192.0.2.1", "REMOTE_PORT": "1234", "REQUEST_URI": "http://example.com/a/b?x=1&y=%20",
				"GATEWAY_INTERFACE": "CGI/1.1", "SERVER_SOFTWARE": "gowsgi",
			},
			absent: []string{"CONTENT_LENGTH", "CONTENT_TYPE"},
		},
		{
			name: "no query: QUERY_STRING still present",
			req:  func() *http.Request { return get("/") },
			want: map[string]string{"QUERY_STRING": "", "PATH_INFO": "/"},
		},
		{
			name: "percent-decoded once, as latin-1",
			req:  func() *http.Request { return get("/a%2Fb/caf%C3%A9/%25%32%46") },
			want: map[string]string{"PATH_INFO": "/a/b/caf\xc3\xa9/%2F", "RAW_URI": "/a%2Fb/caf%C3%A9/%25%32%46"},
		},
		{
			name: "IPv6 host and port",
			req:  func() *http.Request { r := get("/"); r.Host = "[::1]:8080"; return r },
			want: map[string]string{"SERVER_NAME": "[::1]", "SERVER_PORT": "8080", "HTTP_HOST": "[::1]:8080"},
		},
		{
			name: "IPv6 host, TLS default port",
			req: func() *http.Request {
				r := get("/")
				r.Host = "[2001:db8::1]"
				r.TLS = &tls.ConnectionState{}
				return r
			},
			want: map[string]string{"SERVER_NAME": "[2001:db8::1]", "SERVER_PORT": "443", "wsgi.url_scheme": "https"},
		},
		{
			name: "no Host: the local address",
			req: func() *http.Request {
				r := get("/")
				r.Host = ""
				addr := &net.TCPAddr{IP: net.ParseIP("::1"), Port: 9000}
				return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
			},
			want:   map[string]string{"SERVER_NAME": "[::1]", "SERVER_PORT": "9000"},
			absent: []string{"HTTP_HOST"},
		},
		{
			name: "IPv6 peer",
			req:  func() *http.Request { r := get("/"); r.RemoteAddr = "[::1]:5555"; return r },
			want: map[string]string{"REMOTE_ADDR": "::1", "REMOTE_PORT": "5555"},
		},
		{
			name:   "Unix socket peer",
			req:    func() *http.Request { r := get("/"); r.RemoteAddr = "@"; return r },
			want:   map[string]string{"REMOTE_ADDR": ""},
			absent: []string{"REMOTE_PORT"},
		},
		{
			name: "headers",
			req: func() *http.Request {
				r := get("/")
				r.Header.Add("Accept", "a/b")
				r.Header.Add("Accept", "c/d")
				r.Header.Add("Cookie", "a=1")
				r.Header.Add("Cookie", "b=2")
				r.Header["X_Forwarded_For"] = []string{"spoof"}
				r.Header.Set("X-Forwarded-For", "real")
				r.Header.Set("Expect", "100-continue")
				r.Header.Set("Proxy", "http://evil")
				r.Header.Set("X-Custom-Thing", "v")
				return r
			},
			want: map[string]string{
				"HTTP_ACCEPT": "a/b, c/d", "HTTP_COOKIE": "a=1; b=2", "HTTP_X_FORWARDED_FOR": "real",
				"HTTP_X_CUSTOM_THING": "v",
			},
			absent: []string{"HTTP_EXPECT", "HTTP_PROXY"},
		},
		{
			name: "body: CONTENT_TYPE and CONTENT_LENGTH, never HTTP_",
			req: func() *http.Request {
				r := httptest.NewRequest("POST", "/", strings.NewReader("abc"))
				r.Header.Set("Content-Type", "text/plain")
				r.Header.Set("Content-Length", "3")
				return r
			},
			want:   map[string]string{"CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "3"},
			absent: []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"},
		},
		{
			name: "HTTP/2",
			req:  func() *http.Request { r := get("/"); r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/2.0", 2, 0; return r },
			want: map[string]string{"SERVER_PROTOCOL": "HTTP/2.0"},
		},
		{
			name:   "mounted",
			req:    func() *http.Request { return get("/app/x") },
			script: "/app/",
			want:   map[string]string{"SCRIPT_NAME": "/app", "PATH_INFO": "/x"},
		},
		{
			name:   "mounted, exact",
			req:    func() *http.Request { return get("/app") },
			script: "/app",
			want:   map[string]string{"SCRIPT_NAME": "/app", "PATH_INFO": ""},
		},
		{
			name:   "not under the mount point",
			req:    func() *http.Request { return get("/apple") },
			script: "/app",
			want:   map[string]string{"SCRIPT_NAME": "", "PATH_INFO": "/apple"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := Map(tc.req(), tc.script)
			for k, v := range tc.want {
				if got, ok := env[k]; !ok || got != v {
					t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
				}
			}
			for _, k := range tc.absent {
				if v, ok := env[k]; ok {
					t.Errorf("%s = %q, want it absent", k, v)
				}
			}
		})
	}
}

func FuzzMap(f *testing.F) {
	f.Add("/a%2Fb?x", "example.com:80", "X-A", "v", "/a")
	f.Add("/", "[::1]", "Cookie", "a=1", "")
	f.Fuzz(func(t *testing.T, target, host, hname, hvalue, script string) {
		r, err := http.NewRequest("GET", "http://x"+target, nil)
		if err != nil {
			return
		}
		r.Host = host
		r.Header[hname] = []string{hvalue}
		env := Map(r, script)
		if _, ok := env["QUERY_STRING"]; !ok {
			t.Fatal("QUERY_STRING missing")
		}
		if p := env["PATH_INFO"]; p != "" && !strings.HasPrefix(p, "/") && r.URL.Path != "" && strings.HasPrefix(r.URL.Path, "/") {
			t.Fatalf("PATH_INFO %q", p)
		}
	})
}

func TestMount(t *testing.T) {
	cases := []struct {
		path, prefix, script, pathInfo string
		ok                             bool
	}{
		{"/a/b", "", "", "/a/b", true},
		{"/a/b", "/", "", "/a/b", true},
		{"/app", "/app", "/app", "", true},
		{"/app/", "/app", "/app", "/", true},
		{"/app/x", "/app/", "/app", "/x", true},
		{"/apple", "/app", "", "", false},
		{"/ap", "/app", "", "", false},
		{"/", "/app", "", "", false},
	}
	for _, tc := range cases {
		script, pathInfo, ok := Mount(tc.path, tc.prefix)
		if script != tc.script || pathInfo != tc.pathInfo || ok != tc.ok {
			t.Errorf("Mount(%q, %q) = %q, %q, %v; want %q, %q, %v",
				tc.path, tc.prefix, script, pathInfo, ok, tc.script, tc.pathInfo, tc.ok)
		}
	}
}

// bufSink appends to a buffer it reuses, as the Container's frame sink
// does, so that AllocsPerRun counts Build's allocations alone.
type bufSink struct{ b []byte }

func (s *bufSink) Add(k, v string) { s.b = append(append(s.b, k...), v...) }

// TestBuildAllocs holds Build to the allocations it makes per request: none
// for a request with only common headers, one each for an uncommon header's
// key, a repeated header's joined value and a CONTENT_LENGTH over 99.
func TestBuildAllocs(t *testing.T) {
	cases := []struct {
		name, raw string
		max       float64
	}{
		{"common headers", "GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl\r\n" +
			"Accept: */*\r\nAccept-Encoding: gzip\r\nCookie: a=1\r\nX-Forwarded-For: 192.0.2.9\r\n\r\n", 0},
		{"small body", "POST /a HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\n", 0},
		{"uncommon, repeated, long", "POST /a HTTP/1.1\r\nHost: example.com\r\nContent-Length: 12345\r\n" +
			"X-Request-Id: 7\r\nAccept: a/b\r\nAccept: c/d\r\n\r\n", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(tc.raw)))
			if err != nil {
				t.Fatal(err)
			}
			r.RemoteAddr = "192.0.2.1:1234"
			s := &bufSink{b: make([]byte, 0, 4096)}
			got := testing.AllocsPerRun(100, func() {
				s.b = s.b[:0]
				Build(r, "", r.URL.Path, s)
			})
			if got > tc.max {
				t.Errorf("Build allocated %v times per request, want at most %v", got, tc.max)
			}
		})
	}
}
