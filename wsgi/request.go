package wsgi

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// NewRequest returns the server-side *http.Request that a WSGI environ
// describes, reading its body from body: the reverse of Environ, and what a
// Go handler served by a WSGI server sees. The request's URL, like that of a
// request read by net/http's server, holds only the path and query.
//
// Like Environ's, the values are PEP 3333 native strings stored one byte per
// character: a Python str encoded as latin-1. The keys read are:
//
//   - REQUEST_METHOD (required): Method; it must be an HTTP token.
//   - SCRIPT_NAME and PATH_INFO: URL.Path is their concatenation ("/" if both
//     are empty, "*" for "OPTIONS *"). Both are already percent-decoded, so
//     if REQUEST_URI (or else RAW_URI) holds a path that decodes to the same
//     bytes, it becomes URL.RawPath: that keeps "%2F" apart from "/".
//   - QUERY_STRING: URL.RawQuery, as is.
//   - REQUEST_URI, else RAW_URI: RequestURI; without either, the escaped
//     path and the query.
//   - CONTENT_LENGTH: ContentLength and the Content-Length header; Body
//     then reads exactly that many bytes from body, reporting
//     io.ErrUnexpectedEOF if body ends first. Without it, the body is empty
//     (ContentLength 0, http.NoBody) unless wsgi.input_terminated is "True"
//     or HTTP_TRANSFER_ENCODING is "chunked": then ContentLength is -1 and
//     Body reads body to its end.
//   - CONTENT_TYPE: the Content-Type header, if not empty.
//   - HTTP_*: a header each, named by the rest of the key with "_" as "-" in
//     canonical form (HTTP_X_REQUEST_ID is X-Request-Id). HTTP_HOST is Host
//     instead; HTTP_TRANSFER_ENCODING sets TransferEncoding; the CGI
//     variables win over HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH, which are
//     ignored.
//   - SERVER_NAME and SERVER_PORT: Host if there is no HTTP_HOST, as
//     name:port without the scheme's default port; an IPv6 name is
//     bracketed, whether or not it was.
//   - REMOTE_ADDR and REMOTE_PORT: RemoteAddr, as net.JoinHostPort makes
//     it; REMOTE_ADDR alone if there is no port.
//   - wsgi.url_scheme: "https" sets TLS to a non-nil, empty
//     tls.ConnectionState; "http" leaves it nil. Without it, HTTPS set to
//     "on" or "1" (the CGI convention) means https.
//   - SERVER_PROTOCOL: Proto, ProtoMajor and ProtoMinor ("HTTP/1.0" if
//     absent); "HTTP/2" and "HTTP/3" are accepted for 2.0 and 3.0.
//
// Other keys are ignored. A nil body is an empty one. The error names the
// key whose value was malformed.
func NewRequest(environ map[string]string, body io.Reader) (*http.Request, error) {
	r := &http.Request{Header: make(http.Header, len(environ)/2)}
	for _, step := range reqSteps {
		if err := step(r, environ); err != nil {
			return nil, err
		}
	}
	reqSetBody(r, body)
	return r, nil
}

// reqSteps fill in a request from an environ, in order: the URL needs
// the method (for "OPTIONS *"), Host needs TLS (for the default port).
var reqSteps = []func(*http.Request, map[string]string) error{
	reqSetMethod, reqSetProto, reqSetURL, reqSetHeader, reqSetLength, reqSetTLS, reqSetHost, reqSetRemote,
}

func reqEnvError(key, value, problem string) error {
	return fmt.Errorf("wsgi: environ %s=%q: %s", key, value, problem)
}

func reqSetMethod(r *http.Request, env map[string]string) error {
	m := env["REQUEST_METHOD"]
	if m == "" {
		return errors.New("wsgi: environ has no REQUEST_METHOD")
	}
	if !reqIsToken(m) {
		return reqEnvError("REQUEST_METHOD", m, "not an HTTP method")
	}
	r.Method = m
	return nil
}

func reqSetProto(r *http.Request, env map[string]string) error {
	p, ok := env["SERVER_PROTOCOL"]
	if !ok || p == "" {
		p = "HTTP/1.0"
	}
	r.Proto = p
	switch p {
	case "HTTP/2", "HTTP/3":
		r.ProtoMajor = int(p[5] - '0')
		return nil
	}
	if r.ProtoMajor, r.ProtoMinor, ok = http.ParseHTTPVersion(p); !ok {
		return reqEnvError("SERVER_PROTOCOL", p, "not an HTTP version")
	}
	return nil
}

func reqSetURL(r *http.Request, env map[string]string) error {
	script, info := env["SCRIPT_NAME"], env["PATH_INFO"]
	if script != "" && script[0] != '/' {
		return reqEnvError("SCRIPT_NAME", script, "does not start with /")
	}
	path := script + info
	switch {
	case path == "":
		path = "/"
	case path == "*" && r.Method == http.MethodOptions:
	case path[0] != '/':
		return reqEnvError("PATH_INFO", info, "does not start with /")
	}
	u := &url.URL{Path: path, RawQuery: env["QUERY_STRING"]}
	uri := env["REQUEST_URI"]
	if uri == "" {
		uri = env["RAW_URI"]
	}
	u.RawPath = reqRawPath(path, uri)
	if uri == "" {
		uri = u.RequestURI()
	}
	r.URL, r.RequestURI = u, uri
	return nil
}

// reqRawPath returns the path of the request target uri if it is an escaping
// of path other than the default one, else "" (as url.URL.RawPath).
func reqRawPath(path, uri string) string {
	raw, _, _ := strings.Cut(uri, "?")
	if i := strings.Index(raw, "://"); i >= 0 { // absolute-form target
		raw = raw[i+3:]
		j := strings.IndexByte(raw, '/')
		if j < 0 {
			return ""
		}
		raw = raw[j:]
	}
	if raw == path {
		return ""
	}
	if p, err := url.PathUnescape(raw); err != nil || p != path {
		return ""
	}
	u := &url.URL{Path: path, RawPath: raw}
	if u.EscapedPath() != raw { // not a valid escaping: url would ignore it
		return ""
	}
	return raw
}

func reqSetHeader(r *http.Request, env map[string]string) error {
	for k, v := range env {
		name, ok := strings.CutPrefix(k, "HTTP_")
		if !ok {
			continue
		}
		switch name {
		case "HOST", "CONTENT_TYPE", "CONTENT_LENGTH":
			continue
		}
		name = strings.ReplaceAll(name, "_", "-")
		if !reqIsToken(name) {
			return reqEnvError(k, v, "not a header name")
		}
		if !reqValidValue(v) {
			return reqEnvError(k, v, "control character in header value")
		}
		r.Header[textproto.CanonicalMIMEHeaderKey(name)] = []string{v}
	}
	if ct := env["CONTENT_TYPE"]; ct != "" {
		if !reqValidValue(ct) {
			return reqEnvError("CONTENT_TYPE", ct, "control character in header value")
		}
		r.Header["Content-Type"] = []string{ct}
	}
	return nil
}

func reqSetLength(r *http.Request, env map[string]string) error {
	te := r.Header["Transfer-Encoding"]
	if te != nil {
		delete(r.Header, "Transfer-Encoding")
		r.TransferEncoding = te
	}
	if s := env["CONTENT_LENGTH"]; s != "" {
		n, err := strconv.ParseUint(s, 10, 63)
		if err != nil {
			return reqEnvError("CONTENT_LENGTH", s, "not a length")
		}
		r.ContentLength = int64(n)
		r.Header["Content-Length"] = []string{s}
		return nil
	}
	switch env["wsgi.input_terminated"] {
	case "True", "true", "1":
		r.ContentLength = -1
	}
	if len(te) > 0 && strings.EqualFold(te[len(te)-1], "chunked") {
		r.ContentLength = -1
	}
	return nil
}

func reqSetTLS(r *http.Request, env map[string]string) error {
	switch s := env["wsgi.url_scheme"]; s {
	case "https":
		r.TLS = &tls.ConnectionState{}
	case "http":
	case "":
		if h := env["HTTPS"]; h == "on" || h == "ON" || h == "1" {
			r.TLS = &tls.ConnectionState{}
		}
	default:
		return reqEnvError("wsgi.url_scheme", s, `neither "http" nor "https"`)
	}
	return nil
}

func reqSetHost(r *http.Request, env map[string]string) error {
	if h := env["HTTP_HOST"]; h != "" {
		if !reqValidValue(h) || strings.ContainsAny(h, " /") {
			return reqEnvError("HTTP_HOST", h, "not a host")
		}
		r.Host = h
		return nil
	}
	name := strings.TrimSuffix(strings.TrimPrefix(env["SERVER_NAME"], "["), "]")
	if name == "" {
		return nil
	}
	if !reqValidValue(name) || strings.ContainsAny(name, " /") {
		return reqEnvError("SERVER_NAME", name, "not a host")
	}
	port := env["SERVER_PORT"]
	if _, err := strconv.ParseUint(port, 10, 16); port != "" && err != nil {
		return reqEnvError("SERVER_PORT", port, "not a port")
	}
	if port == "" || r.TLS == nil && port == "80" || r.TLS != nil && port == "443" {
		if strings.Contains(name, ":") {
			name = "[" + name + "]"
		}
		r.Host = name
		return nil
	}
	r.Host = net.JoinHostPort(name, port)
	return nil
}

func reqSetRemote(r *http.Request, env map[string]string) error {
	addr, port := env["REMOTE_ADDR"], env["REMOTE_PORT"]
	if port == "" {
		r.RemoteAddr = addr
		return nil
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return reqEnvError("REMOTE_PORT", port, "not a port")
	}
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	r.RemoteAddr = net.JoinHostPort(addr, port)
	return nil
}

// reqSetBody gives r a Body that stops where the environ says the body ends.
func reqSetBody(r *http.Request, body io.Reader) {
	if body == nil {
		body = strings.NewReader("")
	}
	switch {
	case r.ContentLength == 0:
		r.Body = http.NoBody
	case r.ContentLength > 0:
		r.Body = &reqExactReader{r: body, n: r.ContentLength}
	default:
		r.Body = io.NopCloser(body)
	}
}

// reqExactReader reads n bytes, and reports io.ErrUnexpectedEOF if r ends
// before: a WSGI server's input stream must not be read past CONTENT_LENGTH,
// and a client that sent less was cut off.
type reqExactReader struct {
	r io.Reader
	n int64
}

func (e *reqExactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	switch {
	case e.n == 0:
		err = io.EOF
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (e *reqExactReader) Close() error {
	if c, ok := e.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// reqIsToken reports whether s is an RFC 9110 token, as methods and header
// names must be.
func reqIsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// reqValidValue reports whether s may be a header value: no control
// characters but tab, so that a value cannot smuggle a header line.
func reqValidValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
