package environ_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/internal/environ"
)

// reqEnv returns the environ of "GET / HTTP/1.1" to example.com, which each case
// of TestNewRequest amends.
func reqEnv(kv ...string) map[string]string {
	env := map[string]string{
		"REQUEST_METHOD":  "GET",
		"SCRIPT_NAME":     "",
		"PATH_INFO":       "/",
		"QUERY_STRING":    "",
		"SERVER_NAME":     "example.com",
		"SERVER_PORT":     "80",
		"SERVER_PROTOCOL": "HTTP/1.1",
		"REMOTE_ADDR":     "192.0.2.1",
		"REMOTE_PORT":     "5000",
		"wsgi.url_scheme": "http",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<delete>" {
			delete(env, kv[i])
			continue
		}
		env[kv[i]] = kv[i+1]
	}
	return env
}

// reqGot is what a handler sees of a request, for comparison.
type reqGot struct {
	Method, Path, RawPath, RawQuery, RequestURI string
	Proto                                       string
	Major, Minor                                int
	Host, RemoteAddr                            string
	TLS                                         bool
	Header                                      http.Header
	ContentLength                               int64
	TransferEncoding                            []string
}

func reqView(r *http.Request) reqGot {
	return reqGot{
		Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery,
		RequestURI: r.RequestURI, Proto: r.Proto, Major: r.ProtoMajor, Minor: r.ProtoMinor,
		Host: r.Host, RemoteAddr: r.RemoteAddr, TLS: r.TLS != nil, Header: r.Header,
		ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding,
	}
}

func TestNewRequest(t *testing.T) {
	reqDef := reqGot{
		Method: "GET", Path: "/", RequestURI: "/", Proto: "HTTP/1.1", Major: 1, Minor: 1,
		Host: "example.com", RemoteAddr: "192.0.2.1:5000", Header: http.Header{},
	}
	tests := []struct {
		name string
		env  map[string]string
		edit func(*reqGot)
	}{
		{"minimal", reqEnv(), func(*reqGot) {}},
		{"script and path", reqEnv("SCRIPT_NAME", "/app", "PATH_INFO", "/x/y"), func(g *reqGot) {
			g.Path, g.RequestURI = "/app/x/y", "/app/x/y"
		}},
		{"script only", reqEnv("SCRIPT_NAME", "/app", "PATH_INFO", ""), func(g *reqGot) {
			g.Path, g.RequestURI = "/app", "/app"
		}},
		{"empty path is root", reqEnv("PATH_INFO", ""), func(*reqGot) {}},
		{"query", reqEnv("PATH_INFO", "/s", "QUERY_STRING", "q=a%20b&x"), func(g *reqGot) {
			g.Path, g.RawQuery, g.RequestURI = "/s", "q=a%20b&x", "/s?q=a%20b&x"
		}},
		{"non-ASCII bytes are escaped", reqEnv("PATH_INFO", "/caf\xc3\xa9 x"), func(g *reqGot) {
			g.Path, g.RequestURI = "/café x", "/caf%C3%A9%20x"
		}},
		{"latin-1 byte that is not UTF-8", reqEnv("PATH_INFO", "/\xe9"), func(g *reqGot) {
			g.Path, g.RequestURI = "/\xe9", "/%E9"
		}},
		{"%2F kept from REQUEST_URI", reqEnv("PATH_INFO", "/a/b", "REQUEST_URI", "/a%2Fb?x=1", "QUERY_STRING", "x=1"), func(g *reqGot) {
			g.Path, g.RawPath, g.RawQuery, g.RequestURI = "/a/b", "/a%2Fb", "x=1", "/a%2Fb?x=1"
		}},
		{"%2F kept from RAW_URI", reqEnv("PATH_INFO", "/a/b", "RAW_URI", "/a%2Fb"), func(g *reqGot) {
			g.Path, g.RawPath, g.RequestURI = "/a/b", "/a%2Fb", "/a%2Fb"
		}},
		{"REQUEST_URI of another path is not RawPath", reqEnv("PATH_INFO", "/x", "REQUEST_URI", "/mounted/x"), func(g *reqGot) {
			g.Path, g.RequestURI = "/x", "/mounted/x"
		}},
		{"absolute-form REQUEST_URI", reqEnv("PATH_INFO", "/a/b", "REQUEST_URI", "http://h/a%2Fb"), func(g *reqGot) {
			g.Path, g.RawPath, g.RequestURI = "/a/b", "/a%2Fb", "http://h/a%2Fb"
		}},
		{"OPTIONS *", reqEnv("REQUEST_METHOD", "OPTIONS", "PATH_INFO", "*"), func(g *reqGot) {
			g.Method, g.Path, g.RequestURI = "OPTIONS", "*", "*"
		}},
		{"headers", reqEnv("HTTP_X_REQUEST_ID", "7", "HTTP_ACCEPT", "a, b", "HTTP_COOKIE", "a=1; b=2",
			"CONTENT_TYPE", "text/plain", "HTTP_CONTENT_TYPE", "ignored", "HTTP_CONTENT_LENGTH", "9"), func(g *reqGot) {
			g.Header = http.Header{"X-Request-Id": {"7"}, "Accept": {"a, b"}, "Cookie": {"a=1; b=2"}, "Content-Type": {"text/plain"}}
		}},
		{"empty CONTENT_TYPE", reqEnv("CONTENT_TYPE", ""), func(*reqGot) {}},
		{"content length", reqEnv("REQUEST_METHOD", "POST", "CONTENT_LENGTH", "12"), func(g *reqGot) {
			g.Method, g.ContentLength, g.Header = "POST", 12, http.Header{"Content-Length": {"12"}}
		}},
		{"input terminated", reqEnv("REQUEST_METHOD", "POST", "wsgi.input_terminated", "True"), func(g *reqGot) {
			g.Method, g.ContentLength = "POST", -1
		}},
		{"chunked", reqEnv("REQUEST_METHOD", "POST", "HTTP_TRANSFER_ENCODING", "chunked"), func(g *reqGot) {
			g.Method, g.ContentLength, g.TransferEncoding = "POST", -1, []string{"chunked"}
		}},
		{"HTTP_HOST wins", reqEnv("HTTP_HOST", "h.example:8080"), func(g *reqGot) { g.Host = "h.example:8080" }},
		{"server port", reqEnv("SERVER_PORT", "8000"), func(g *reqGot) { g.Host = "example.com:8000" }},
		{"https default port", reqEnv("wsgi.url_scheme", "https", "SERVER_PORT", "443"), func(g *reqGot) { g.TLS = true }},
		{"https other port", reqEnv("wsgi.url_scheme", "https", "SERVER_PORT", "80"), func(g *reqGot) {
			g.TLS, g.Host = true, "example.com:80"
		}},
		{"CGI HTTPS", reqEnv("wsgi.url_scheme", "<delete>", "HTTPS", "on", "SERVER_PORT", "443"), func(g *reqGot) { g.TLS = true }},
		{"IPv6 server", reqEnv("SERVER_NAME", "::1", "SERVER_PORT", "8080"), func(g *reqGot) { g.Host = "[::1]:8080" }},
		{"bracketed IPv6 server", reqEnv("SERVER_NAME", "[::1]"), func(g *reqGot) { g.Host = "[::1]" }},
		{"IPv6 remote", reqEnv("REMOTE_ADDR", "::1"), func(g *reqGot) { g.RemoteAddr = "[::1]:5000" }},
		{"no remote port", reqEnv("REMOTE_PORT", "<delete>"), func(g *reqGot) { g.RemoteAddr = "192.0.2.1" }},
		{"HTTP/1.0", reqEnv("SERVER_PROTOCOL", "HTTP/1.0"), func(g *reqGot) { g.Proto, g.Minor = "HTTP/1.0", 0 }},
		{"HTTP/2", reqEnv("SERVER_PROTOCOL", "HTTP/2"), func(g *reqGot) { g.Proto, g.Major, g.Minor = "HTTP/2", 2, 0 }},
		{"no protocol", reqEnv("SERVER_PROTOCOL", "<delete>"), func(g *reqGot) { g.Proto, g.Minor = "HTTP/1.0", 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := environ.NewRequest(tt.env, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := reqDef
			want.Header = http.Header{}
			tt.edit(&want)
			if g := reqView(r); !reflect.DeepEqual(g, want) {
				t.Errorf("NewRequest:\n got %+v\nwant %+v", g, want)
			}
			// The URL re-escapes to the request target it came from.
			w := want.RequestURI
			p, _, _ := strings.Cut(w, "?")
			if dec, _ := url.PathUnescape(p); dec == want.Path && w != "*" {
				if g := r.URL.EscapedPath() + reqQuery(r.URL.RawQuery); g != w {
					t.Errorf("URL.RequestURI() = %q, want %q", g, w)
				}
			}
		})
	}
}

func reqQuery(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

func TestNewRequestErrors(t *testing.T) {
	tests := []struct {
		env     map[string]string
		wantKey string
	}{
		{reqEnv("REQUEST_METHOD", "<delete>"), "REQUEST_METHOD"},
		{reqEnv("REQUEST_METHOD", "GE T"), "REQUEST_METHOD"},
		{reqEnv("SERVER_PROTOCOL", "SPDY"), "SERVER_PROTOCOL"},
		{reqEnv("PATH_INFO", "x"), "PATH_INFO"},
		{reqEnv("SCRIPT_NAME", "app"), "SCRIPT_NAME"},
		{reqEnv("CONTENT_LENGTH", "-1"), "CONTENT_LENGTH"},
		{reqEnv("CONTENT_LENGTH", "12x"), "CONTENT_LENGTH"},
		{reqEnv("CONTENT_TYPE", "a\r\nX-Evil: 1"), "CONTENT_TYPE"},
		{reqEnv("HTTP_X_A", "a\nb"), "HTTP_X_A"},
		{reqEnv("HTTP_X_A:B", "1"), "HTTP_X_A:B"},
		{reqEnv("wsgi.url_scheme", "ftp"), "wsgi.url_scheme"},
		{reqEnv("HTTP_HOST", "a/b"), "HTTP_HOST"},
		{reqEnv("SERVER_PORT", "http"), "SERVER_PORT"},
		{reqEnv("REMOTE_PORT", "99999"), "REMOTE_PORT"},
	}
	for _, tt := range tests {
		_, err := environ.NewRequest(tt.env, nil)
		if err == nil || !strings.Contains(err.Error(), tt.wantKey) {
			t.Errorf("NewRequest with %s=%q: error %v, want one naming %s", tt.wantKey, tt.env[tt.wantKey], err, tt.wantKey)
		}
	}
}

func TestNewRequestBody(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		body    string
		want    string
		wantErr error
	}{
		{"exact", reqEnv("CONTENT_LENGTH", "5"), "hello", "hello", nil},
		{"stops at length", reqEnv("CONTENT_LENGTH", "3"), "hello", "hel", nil},
		{"short", reqEnv("CONTENT_LENGTH", "9"), "hello", "hello", io.ErrUnexpectedEOF},
		{"no length, no body", reqEnv(), "hello", "", nil},
		{"terminated", reqEnv("wsgi.input_terminated", "True"), "hello", "hello", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := environ.NewRequest(tt.env, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(r.Body)
			if string(b) != tt.want || !errors.Is(err, tt.wantErr) {
				t.Errorf("Body read %q, %v; want %q, %v", b, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestNewRequestRoundTrip checks that NewRequest undoes Map for requests
// as net/http's server reads them.
func TestNewRequestRoundTrip(t *testing.T) {
	tests := []struct {
		name, raw, script, remote string
	}{
		{"get", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", "", "192.0.2.1:1234"},
		{"query and headers", "GET /search?q=go+wsgi&n=1 HTTP/1.1\r\nHost: example.com:8080\r\n" +
			"Accept: text/html\r\nAccept: */*\r\nCookie: a=1\r\nCookie: b=2\r\nX-Trace-Id: abc\r\n\r\n", "", "192.0.2.1:1234"},
		{"post", "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\r\n" +
			"Content-Length: 11\r\n\r\nhello world", "", "192.0.2.1:1234"},
		{"escaped path", "GET /a%2Fb/caf%C3%A9 HTTP/1.1\r\nHost: example.com\r\n\r\n", "", "192.0.2.1:1234"},
		{"mounted", "GET /app/x?y=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", "/app", "192.0.2.1:1234"},
		{"HTTP/1.0 IPv6", "GET /v6 HTTP/1.0\r\nHost: [::1]:8000\r\n\r\n", "", "[2001:db8::1]:443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := http.ReadRequest(bufio.NewReader(strings.NewReader(tt.raw)))
			if err != nil {
				t.Fatal(err)
			}
			in.RemoteAddr = tt.remote
			out, err := environ.NewRequest(environ.Map(in, tt.script), in.Body)
			if err != nil {
				t.Fatal(err)
			}
			// net/http joins nothing; Map joins repeated headers, as
			// a WSGI server does. Compare them reqJoined.
			in.Header = reqJoined(in.Header)
			if g, w := reqView(out), reqView(in); !reflect.DeepEqual(g, w) {
				t.Errorf("NewRequest(Map(r)):\n got %+v\nwant %+v", g, w)
			}
			b, err := io.ReadAll(out.Body)
			if err != nil || int64(len(b)) != max(in.ContentLength, 0) {
				t.Errorf("body %q, %v; want %d bytes", b, err, in.ContentLength)
			}
		})
	}
}

func reqJoined(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		sep := ", "
		if k == "Cookie" {
			sep = "; "
		}
		out[k] = []string{strings.Join(v, sep)}
	}
	return out
}
