package environ

import (
	"crypto/tls"
	"crypto/x509"
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
// describes, reading its body from body: the reverse of Map, as
// wsgi.NewRequest documents it. The request's URL, like that of a request
// read by net/http's server, holds only the path and query; its Body reads
// no further than CONTENT_LENGTH. A nil body is an empty one. The error
// names the key whose value was malformed.
func NewRequest(environ map[string]string, body io.Reader) (*http.Request, error) {
	r := &http.Request{Header: make(http.Header, len(environ)/2)}
	for _, step := range steps {
		if err := step(r, environ); err != nil {
			return nil, err
		}
	}
	setBody(r, body)
	return r, nil
}

// steps fill in a request from an environ, in order: the URL needs
// the method (for "OPTIONS *"), Host needs TLS (for the default port).
var steps = []func(*http.Request, map[string]string) error{
	setMethod, setProto, setURL, setHeader, setLength, setTLS, setHost, setRemote,
}

func envError(key, value, problem string) error {
	return fmt.Errorf("wsgi: environ %s=%q: %s", key, value, problem)
}

func setMethod(r *http.Request, env map[string]string) error {
	m := env["REQUEST_METHOD"]
	if m == "" {
		return errors.New("wsgi: environ has no REQUEST_METHOD")
	}
	if !isToken(m) {
		return envError("REQUEST_METHOD", m, "not an HTTP method")
	}
	r.Method = m
	return nil
}

func setProto(r *http.Request, env map[string]string) error {
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
		return envError("SERVER_PROTOCOL", p, "not an HTTP version")
	}
	return nil
}

func setURL(r *http.Request, env map[string]string) error {
	script, info := env["SCRIPT_NAME"], env["PATH_INFO"]
	if script != "" && script[0] != '/' {
		return envError("SCRIPT_NAME", script, "does not start with /")
	}
	path := script + info
	switch {
	case path == "":
		path = "/"
	case path == "*" && r.Method == http.MethodOptions:
	case path[0] != '/':
		return envError("PATH_INFO", info, "does not start with /")
	}
	u := &url.URL{Path: path, RawQuery: env["QUERY_STRING"]}
	uri := env["REQUEST_URI"]
	if uri == "" {
		uri = env["RAW_URI"]
	}
	u.RawPath = rawPath(path, uri)
	if uri == "" {
		uri = u.RequestURI()
	}
	r.URL, r.RequestURI = u, uri
	return nil
}

// rawPath returns the path of the request target uri if it is an escaping
// of path other than the default one, else "" (as url.URL.RawPath).
func rawPath(path, uri string) string {
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

func setHeader(r *http.Request, env map[string]string) error {
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
		if !isToken(name) {
			return envError(k, v, "not a header name")
		}
		if !validValue(v) {
			return envError(k, v, "control character in header value")
		}
		r.Header[textproto.CanonicalMIMEHeaderKey(name)] = []string{v}
	}
	if ct := env["CONTENT_TYPE"]; ct != "" {
		if !validValue(ct) {
			return envError("CONTENT_TYPE", ct, "control character in header value")
		}
		r.Header["Content-Type"] = []string{ct}
	}
	return nil
}

func setLength(r *http.Request, env map[string]string) error {
	te := r.Header["Transfer-Encoding"]
	if te != nil {
		delete(r.Header, "Transfer-Encoding")
		r.TransferEncoding = te
	}
	if s := env["CONTENT_LENGTH"]; s != "" {
		n, err := strconv.ParseUint(s, 10, 63)
		if err != nil {
			return envError("CONTENT_LENGTH", s, "not a length")
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

func setTLS(r *http.Request, env map[string]string) error {
	switch s := env["wsgi.url_scheme"]; s {
	case "https":
		r.TLS = &tls.ConnectionState{}
	case "http":
	case "":
		if h := env["HTTPS"]; h == "on" || h == "ON" || h == "1" {
			r.TLS = &tls.ConnectionState{}
		}
	default:
		return envError("wsgi.url_scheme", s, `neither "http" nor "https"`)
	}
	// A server that passes the client's certificate (Apache's mod_ssl,
	// with ExportCertData; gowsgi's Container) gives the handler it too.
	if c := clientCert(env); r.TLS != nil && c != nil {
		r.TLS.PeerCertificates = []*x509.Certificate{c}
		if env["SSL_CLIENT_VERIFY"] == "SUCCESS" {
			r.TLS.VerifiedChains = [][]*x509.Certificate{{c}}
		}
	}
	return nil
}

func setHost(r *http.Request, env map[string]string) error {
	if h := env["HTTP_HOST"]; h != "" {
		if !validValue(h) || strings.ContainsAny(h, " /") {
			return envError("HTTP_HOST", h, "not a host")
		}
		r.Host = h
		return nil
	}
	name := strings.TrimSuffix(strings.TrimPrefix(env["SERVER_NAME"], "["), "]")
	if name == "" {
		return nil
	}
	if !validValue(name) || strings.ContainsAny(name, " /") {
		return envError("SERVER_NAME", name, "not a host")
	}
	port := env["SERVER_PORT"]
	if _, err := strconv.ParseUint(port, 10, 16); port != "" && err != nil {
		return envError("SERVER_PORT", port, "not a port")
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

func setRemote(r *http.Request, env map[string]string) error {
	addr, port := env["REMOTE_ADDR"], env["REMOTE_PORT"]
	if port == "" {
		r.RemoteAddr = addr
		return nil
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return envError("REMOTE_PORT", port, "not a port")
	}
	addr = strings.TrimSuffix(strings.TrimPrefix(addr, "["), "]")
	r.RemoteAddr = net.JoinHostPort(addr, port)
	return nil
}

// setBody gives r a Body that stops where the environ says the body ends.
func setBody(r *http.Request, body io.Reader) {
	if body == nil {
		body = strings.NewReader("")
	}
	switch {
	case r.ContentLength == 0:
		r.Body = http.NoBody
	case r.ContentLength > 0:
		r.Body = &exactReader{r: body, n: r.ContentLength}
	default:
		r.Body = io.NopCloser(body)
	}
}

// exactReader reads n bytes, and reports io.ErrUnexpectedEOF if r ends
// before: a WSGI server's input stream must not be read past CONTENT_LENGTH,
// and a client that sent less was cut off.
type exactReader struct {
	r io.Reader
	n int64
}

func (e *exactReader) Read(p []byte) (int, error) {
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

func (e *exactReader) Close() error {
	if c, ok := e.r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token, as methods and header
// names must be.
func isToken(s string) bool {
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

// validValue reports whether s may be a header value: no control
// characters but tab, so that a value cannot smuggle a header line.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
