package wsgi

import (
	"net/http"

	"github.com/gowsgi/gowsgi/internal/environ"
)

// Software is the value of SERVER_SOFTWARE.
const Software = environ.Software

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
//   - HTTPS, SSL_PROTOCOL, SSL_CLIENT_VERIFY, if r.TLS is set, and with a
//     client certificate SSL_CLIENT_S_DN, SSL_CLIENT_S_DN_CN,
//     SSL_CLIENT_I_DN, SSL_CLIENT_I_DN_CN, SSL_CLIENT_M_SERIAL,
//     SSL_CLIENT_V_START, SSL_CLIENT_V_END and SSL_CLIENT_CERT (PEM), as
//     Apache's mod_ssl names them: "on"; "TLSv1.3"; "SUCCESS" if the
//     certificate was verified, "GENEROUS" if not, "NONE" without one; the
//     subject's and issuer's names in RFC 2253's form and their common
//     names; the serial in upper-case hex; the validity as OpenSSL writes
//     it ("Dec  2 13:47:46 2026 GMT").
//   - wsgi.url_scheme: "https" if r.TLS is set, else "http".
func Environ(r *http.Request, scriptName string) map[string]string {
	return environ.Map(r, scriptName)
}
