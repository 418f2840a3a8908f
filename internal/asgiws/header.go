package asgiws

import (
	"net/http"
	"net/textproto"
)

// setHeaders checks the app's headers and adds them to h. forbidden lists
// the (canonical) names that are the server's to set.
func setHeaders(msg Message, h http.Header, forbidden map[string]bool) error {
	list, err := headerList(msg)
	if err != nil {
		return err
	}
	for _, f := range list {
		if !isToken(f.name) {
			return badMessage(msg, "header name %q is not an HTTP token (RFC 9110)", f.name)
		}
		if hasCTL(f.value) {
			return badMessage(msg, "header %s value %q has a control character", f.name, f.value)
		}
		key := textproto.CanonicalMIMEHeaderKey(f.name)
		if forbidden[key] {
			return badMessage(msg, "header %s is the server's to set", f.name)
		}
		h.Add(key, f.value)
	}
	return nil
}

// The headers an app must not set: on the handshake (the spec names
// sec-websocket-protocol; the others would break the upgrade), and on a
// denial response (hop-by-hop, as PEP 3333 forbids them). Never modified.
var (
	acceptForbidden = map[string]bool{
		"Connection": true, "Upgrade": true, "Transfer-Encoding": true, "Content-Length": true,
		"Sec-Websocket-Accept": true, "Sec-Websocket-Extensions": true, "Sec-Websocket-Protocol": true,
	}
	denialForbidden = map[string]bool{
		"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true, "Proxy-Authorization": true,
		"Te": true, "Trailer": true, "Trailers": true, "Transfer-Encoding": true, "Upgrade": true,
	}
)

// hasCTL reports a control character other than horizontal tab.
func hasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// isToken reports whether s is an RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		switch c {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
			continue
		}
		return false
	}
	return true
}
