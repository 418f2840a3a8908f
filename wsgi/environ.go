package wsgi

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Software is the value of SERVER_SOFTWARE.
const Software = "gowsgi"

// Environ returns the CGI variables of the environ that a WSGI application
// mounted at scriptName ("" for the root) sees for r: every str-valued key
// the Container sets. The Container adds the non-string keys itself
// (wsgi.version, wsgi.input, wsgi.errors, wsgi.multithread,
// wsgi.multiprocess, which is True while more than one worker takes
// requests (see Container.SetWorkers), wsgi.run_once,
// wsgi.input_terminated, which is always True, and wsgi.file_wrapper).
//
// Each value is a PEP 3333 native string: one byte of the request per
// character, as latin-1. The keys are:
//
//   - REQUEST_METHOD: r.Method.
//   - SCRIPT_NAME: scriptName without a trailing slash, if r's path is under
//     it on a segment boundary ("/app" holds "/app" and "/app/x", never
//     "/apple"); else "".
//   - PATH_INFO: the rest of the path, percent-decoded exactly once, so that
//     "%2F" is "/" and "%C3%A9" is the two characters "Ã©" (the UTF-8 bytes
//     read as latin-1). It is "" or starts with "/".
//   - QUERY_STRING: the raw query, undecoded; "" if there is none.
//   - REQUEST_URI and RAW_URI: the request target exactly as the client sent
//     it (RAW_URI is gunicorn's name, REQUEST_URI uWSGI's).
//   - CONTENT_TYPE: the Content-Type header, if present.
//   - CONTENT_LENGTH: the body's length in decimal, if the request declared
//     one or has a body (the Container sets r.ContentLength for a chunked
//     body once it has read it); absent for a request without a body.
//   - SERVER_NAME and SERVER_PORT: from the Host header ("[::1]:8080" gives
//     "[::1]" and "8080", as RFC 3875 writes IPv6 names); the port defaults
//     to 80 or 443 by scheme; without a Host header, the local address.
//   - SERVER_PROTOCOL: r.Proto, as "HTTP/1.1" or "HTTP/2.0".
//   - REMOTE_ADDR and REMOTE_PORT: the peer's address (IPv6 without
//     brackets) and port; REMOTE_ADDR is "" for a Unix socket peer.
//   - GATEWAY_INTERFACE: "CGI/1.1". SERVER_SOFTWARE: Software.
//   - HTTP_HOST: r.Host, if set.
//   - HTTP_*: every other header, its name upper-cased with "-" as "_".
//     Repeated headers are joined with ", " (RFC 9110, section 5.3), and
//     Cookie headers with "; " (RFC 9113, section 8.2.3). Names that contain
//     "_" are dropped: they would be indistinguishable from, and could
//     spoof, names with "-". Expect (already answered by the server) and
//     Proxy (httpoxy) are dropped too.
//   - wsgi.url_scheme: "https" if r.TLS is set, else "http".
func Environ(r *http.Request, scriptName string) map[string]string {
	m := make(map[string]string, 16+len(r.Header))
	script, pathInfo, ok := mount(r.URL.Path, scriptName)
	if !ok {
		script, pathInfo = "", r.URL.Path
	}
	buildEnviron(r, script, pathInfo, mapSink(m))
	return m
}

// envSink receives environ variables as they are built: a map for Environ,
// the request frame for the Container, so that both share one definition.
type envSink interface {
	add(key, value string)
}

type mapSink map[string]string

func (m mapSink) add(k, v string) { m[k] = v }

// mount splits path at the mount point prefix: the SCRIPT_NAME and PATH_INFO
// of a request, or false if path is not under prefix.
func mount(path, prefix string) (script, pathInfo string, ok bool) {
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

func buildEnviron(r *http.Request, script, pathInfo string, s envSink) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	s.add("REQUEST_METHOD", r.Method)
	s.add("SCRIPT_NAME", script)
	s.add("PATH_INFO", pathInfo)
	s.add("QUERY_STRING", r.URL.RawQuery)
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	s.add("REQUEST_URI", uri)
	s.add("RAW_URI", uri)
	proto := r.Proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	s.add("SERVER_PROTOCOL", proto)
	s.add("GATEWAY_INTERFACE", "CGI/1.1")
	s.add("SERVER_SOFTWARE", Software)
	name, port := serverNamePort(r, scheme)
	s.add("SERVER_NAME", name)
	s.add("SERVER_PORT", port)
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		s.add("REMOTE_ADDR", host)
		s.add("REMOTE_PORT", port)
	} else {
		s.add("REMOTE_ADDR", "")
	}
	if r.ContentLength > 0 || r.ContentLength == 0 && r.Header["Content-Length"] != nil {
		s.add("CONTENT_LENGTH", strconv.FormatInt(r.ContentLength, 10))
	}
	if r.Host != "" {
		s.add("HTTP_HOST", r.Host)
	}
	for name, values := range r.Header {
		key, ok := headerKey(name)
		if !ok || len(values) == 0 {
			continue
		}
		switch {
		case key == "CONTENT_TYPE":
			s.add(key, values[0])
		case len(values) == 1:
			s.add(key, values[0])
		case key == "HTTP_COOKIE":
			s.add(key, strings.Join(values, "; "))
		default:
			s.add(key, strings.Join(values, ", "))
		}
	}
	s.add("wsgi.url_scheme", scheme)
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
