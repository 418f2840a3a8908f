package environ

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzNewRequest: whatever environ a WSGI server hands over, NewRequest
// never panics; an error names the environ key at fault; a request it
// returns is one net/http could have read (method a token, path rooted,
// headers without control characters, a body that stops at
// CONTENT_LENGTH), and Map of it gives back the method, path and
// query.
func FuzzNewRequest(f *testing.F) {
	type seed struct {
		method, script, path, query, uri, length, host, name, port, remote, rport, scheme, proto, hkey, hval, body string
	}
	for _, s := range []seed{
		{"GET", "", "/", "", "/", "", "example.com", "", "", "127.0.0.1", "5000", "http", "HTTP/1.1", "HTTP_X_A", "b", ""},
		{"POST", "/app", "/a b/%2F", "x=1&y", "/app/a%20b/%252F?x=1&y", "5", "", "::1", "8443", "::1", "1", "https", "HTTP/2", "HTTP_TRANSFER_ENCODING", "chunked", "hello world"},
		{"OPTIONS", "", "*", "", "*", "", "", "h", "80", "", "", "", "", "CONTENT_TYPE", "text/plain", ""},
		{"PUT", "", "/x", "", "http://h:1/x", "", "h:1", "", "", "10.0.0.1", "", "", "HTTP/1.0", "HTTP_HOST", "h\r\nX: y", "ab"},
		{"G\x00T", "x", "y", "", "", "-1", "", "[fe80::1]", "99999", "", "x", "ftp", "HTTP/9", "HTTP_A B", "\x7f", ""},
		{"DELETE", "", "/\xe9", "", "", "0", "", "", "", "", "", "", "HTTP/1.1", "HTTP_", "", "unread"},
	} {
		f.Add(s.method, s.script, s.path, s.query, s.uri, s.length, s.host, s.name, s.port, s.remote, s.rport, s.scheme, s.proto, s.hkey, s.hval, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, script, path, query, uri, length, host, name, port, remote, rport, scheme, proto, hkey, hval string, body []byte) {
		env := map[string]string{}
		for k, v := range map[string]string{
			"REQUEST_METHOD": method, "SCRIPT_NAME": script, "PATH_INFO": path, "QUERY_STRING": query,
			"REQUEST_URI": uri, "CONTENT_LENGTH": length, "HTTP_HOST": host, "SERVER_NAME": name,
			"SERVER_PORT": port, "REMOTE_ADDR": remote, "REMOTE_PORT": rport, "wsgi.url_scheme": scheme,
			"SERVER_PROTOCOL": proto,
		} {
			if v != "" {
				env[k] = v
			}
		}
		env[hkey] = hval
		r, err := NewRequest(env, strings.NewReader(string(body)))
		if err != nil {
			named := strings.Contains(err.Error(), "REQUEST_METHOD")
			for k := range env {
				named = named || strings.Contains(err.Error(), "environ "+k+"=")
			}
			if !named {
				t.Fatalf("error %q names no key of %q", err, env)
			}
			return
		}
		if !isToken(r.Method) {
			t.Fatalf("method %q", r.Method)
		}
		if p := r.URL.Path; !strings.HasPrefix(p, "/") && !(p == "*" && r.Method == "OPTIONS") {
			t.Fatalf("path %q", p)
		}
		for k, vs := range r.Header {
			if !isToken(k) {
				t.Fatalf("header name %q", k)
			}
			for _, v := range vs {
				if !validValue(v) {
					t.Fatalf("header %s: %q", k, v)
				}
			}
		}
		if !validValue(r.Host) || strings.ContainsAny(r.Host, " /") {
			t.Fatalf("host %q", r.Host)
		}
		got, err := io.ReadAll(r.Body)
		switch {
		case r.ContentLength == 0 && len(got) != 0:
			t.Fatalf("ContentLength 0 read %d bytes", len(got))
		case r.ContentLength > 0 && int64(len(got)) > r.ContentLength:
			t.Fatalf("ContentLength %d read %d bytes", r.ContentLength, len(got))
		case r.ContentLength > 0 && int64(len(body)) >= r.ContentLength && err != nil:
			t.Fatalf("ContentLength %d of %d bytes: %v", r.ContentLength, len(body), err)
		}
		if r.Method == "OPTIONS" && r.URL.Path == "*" {
			return
		}
		back := Map(r, "")
		want := script + path
		if want == "" {
			want = "/"
		}
		if back["REQUEST_METHOD"] != r.Method || back["PATH_INFO"] != want || back["QUERY_STRING"] != query {
			t.Fatalf("Map(NewRequest(env)) gave method %q path %q query %q; want %q %q %q",
				back["REQUEST_METHOD"], back["PATH_INFO"], back["QUERY_STRING"], r.Method, want, query)
		}
		var _ http.Header = r.Header
	})
}
