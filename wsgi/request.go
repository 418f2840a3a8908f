package wsgi

import (
	"io"
	"net/http"

	"github.com/gowsgi/gowsgi/internal/environ"
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
//   - SSL_CLIENT_CERT (mod_ssl's, with ExportCertData; the Container's):
//     over https, a PEM certificate becomes TLS.PeerCertificates, and
//     TLS.VerifiedChains too if SSL_CLIENT_VERIFY is "SUCCESS".
//   - SERVER_PROTOCOL: Proto, ProtoMajor and ProtoMinor ("HTTP/1.0" if
//     absent); "HTTP/2" and "HTTP/3" are accepted for 2.0 and 3.0.
//
// Other keys are ignored. A nil body is an empty one. The error names the
// key whose value was malformed.
func NewRequest(env map[string]string, body io.Reader) (*http.Request, error) {
	return environ.NewRequest(env, body)
}
