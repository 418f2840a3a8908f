package environ

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Software is the value of SERVER_SOFTWARE.
const Software = "gowsgi"

// Sink receives the environ variables that Build makes, one Add a
// variable, so that a caller can store them as it needs (a map for Map, the
// request frame for wsgi.Container) without an intermediate map.
type Sink interface {
	Add(key, value string)
}

// Map returns the str-valued environ of r for an application mounted at
// scriptName ("" for the root), as wsgi.Environ documents it. A path that is
// not under scriptName gets SCRIPT_NAME "" and the whole path as PATH_INFO.
func Map(r *http.Request, scriptName string) map[string]string {
	m := make(map[string]string, 16+len(r.Header))
	script, pathInfo, ok := Mount(r.URL.Path, scriptName)
	if !ok {
		script, pathInfo = "", r.URL.Path
	}
	Build(r, script, pathInfo, mapSink(m))
	return m
}

type mapSink map[string]string

func (m mapSink) Add(k, v string) { m[k] = v }

// Mount splits path at the mount point prefix (a trailing slash ignored):
// the SCRIPT_NAME and PATH_INFO of a request, or false if path is not under
// prefix on a segment boundary ("/app" holds "/app" and "/app/x", never
// "/apple").
func Mount(path, prefix string) (scriptName, pathInfo string, ok bool) {
	prefix = strings.TrimRight(prefix, "/")
	switch {
	case prefix == "":
		return "", path, true
	case path == prefix:
		return prefix, "", true
	case strings.HasPrefix(path, prefix) && path[len(prefix)] == '/':
		return prefix, path[len(prefix):], true
	}
	return "", "", false
}

// Build sends s the str-valued environ variables of r, with the given
// SCRIPT_NAME and PATH_INFO (see Mount): every key that wsgi.Environ
// documents, wsgi.url_scheme last. It allocates only for what
// it must build: the key of a header outside a table of common ones, a
// repeated header's joined value, a CONTENT_LENGTH over 99, and the
// request target of a request that net/http's server did not read.
func Build(r *http.Request, scriptName, pathInfo string, s Sink) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	s.Add("REQUEST_METHOD", r.Method)
	s.Add("SCRIPT_NAME", scriptName)
	s.Add("PATH_INFO", pathInfo)
	s.Add("QUERY_STRING", r.URL.RawQuery)
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	s.Add("REQUEST_URI", uri)
	s.Add("RAW_URI", uri)
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	s.Add("SERVER_PROTOCOL", proto)
	s.Add("GATEWAY_INTERFACE", "CGI/1.1")
	s.Add("SERVER_SOFTWARE", Software)
	name, port := serverNamePort(r, scheme)
	s.Add("SERVER_NAME", name)
	s.Add("SERVER_PORT", port)
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		s.Add("REMOTE_ADDR", host)
		s.Add("REMOTE_PORT", port)
	} else {
		s.Add("REMOTE_ADDR", "")
	}
	if r.ContentLength > 0 || r.ContentLength == 0 && r.Header["Content-Length"] != nil {
		s.Add("CONTENT_LENGTH", strconv.FormatInt(r.ContentLength, 10))
	}
	if r.Host != "" {
		s.Add("HTTP_HOST", r.Host)
	}
	for name, values := range r.Header {
		key, ok := headerKey(name)
		if !ok || len(values) == 0 {
			continue
		}
		switch {
		case key == "CONTENT_TYPE":
			s.Add(key, values[0])
		case len(values) == 1:
			s.Add(key, values[0])
		case key == "HTTP_COOKIE":
			s.Add(key, strings.Join(values, "; "))
		default:
			s.Add(key, strings.Join(values, ", "))
		}
	}
	if r.TLS != nil {
		addTLS(r.TLS, s)
	}
	s.Add("wsgi.url_scheme", scheme)
}

// serverNamePort returns SERVER_NAME and SERVER_PORT.
func serverNamePort(r *http.Request, scheme string) (name, port string) {
	host := r.Host
	if host == "" {
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			host = a.String()
		}
	}
	switch {
	case strings.HasPrefix(host, "["):
		name = host
		if i := strings.LastIndexByte(host, ']'); i > 0 {
			name = host[:i+1]
			port, _ = strings.CutPrefix(host[i+1:], ":")
		}
	case strings.Contains(host, ":"):
		i := strings.LastIndexByte(host, ':')
		name, port = host[:i], host[i+1:]
	default:
		name = host
	}
	if name == "" {
		name = "localhost"
	}
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return name, port
}

// headerKey returns the environ key of a canonical header name, or false if
// the header must not reach the application.
func headerKey(name string) (string, bool) {
	if key, ok := commonHeaderKeys[name]; ok {
		return key, key != ""
	}
	if strings.IndexByte(name, '_') >= 0 {
		return "", false
	}
	b := make([]byte, 0, 5+len(name))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		b = append(b, c)
	}
	return string(b), true
}

// commonHeaderKeys spares the common headers the conversion; "" marks a
// header that is never passed on. It is never modified.
var commonHeaderKeys = map[string]string{
	"Content-Type":              "CONTENT_TYPE",
	"Content-Length":            "", // CONTENT_LENGTH comes from r.ContentLength
	"Expect":                    "",
	"Proxy":                     "",
	"Host":                      "",
	"Accept":                    "HTTP_ACCEPT",
	"Accept-Encoding":           "HTTP_ACCEPT_ENCODING",
	"Accept-Language":           "HTTP_ACCEPT_LANGUAGE",
	"Authorization":             "HTTP_AUTHORIZATION",
	"Cache-Control":             "HTTP_CACHE_CONTROL",
	"Connection":                "HTTP_CONNECTION",
	"Cookie":                    "HTTP_COOKIE",
	"If-Modified-Since":         "HTTP_IF_MODIFIED_SINCE",
	"If-None-Match":             "HTTP_IF_NONE_MATCH",
	"Origin":                    "HTTP_ORIGIN",
	"Referer":                   "HTTP_REFERER",
	"Upgrade-Insecure-Requests": "HTTP_UPGRADE_INSECURE_REQUESTS",
	"User-Agent":                "HTTP_USER_AGENT",
	"X-Forwarded-For":           "HTTP_X_FORWARDED_FOR",
	"X-Forwarded-Proto":         "HTTP_X_FORWARDED_PROTO",
	"X-Requested-With":          "HTTP_X_REQUESTED_WITH",
}
