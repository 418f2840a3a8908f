// Package respcheck checks the status and headers an app's response
// carries, for the WSGI and ASGI containers alike, before net/http writes
// them: nothing an app sends may split a response or set what is the
// server's to set.
package respcheck

import (
	"fmt"
	"net/textproto"
)

// Header checks one header of a response (its value as bytes) and returns
// its canonical name.
func Header(name, value string) (string, error) {
	if !IsToken(name) {
		return "", fmt.Errorf("header name %q is not an HTTP token (RFC 9110)", name)
	}
	if HasCTL(value) {
		return "", fmt.Errorf("header %s value %q has a control character (CR, LF or NUL would split the response)", name, value)
	}
	key := textproto.CanonicalMIMEHeaderKey(name)
	if hopByHop[key] {
		return "", fmt.Errorf("hop-by-hop header %s is the server's to set", name)
	}
	return key, nil
}

// hopByHop lists the headers an application must not set (PEP 3333, and
// the connection-specific headers of RFC 9110). It is never modified.
var hopByHop = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Trailers":            true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
}

// IsDigit reports an ASCII digit.
func IsDigit(c byte) bool { return '0' <= c && c <= '9' }

// HasCTL reports a control character other than horizontal tab.
func HasCTL(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

// IsToken reports whether s is an RFC 9110 token.
func IsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || IsDigit(c) {
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
