// Package requestid is a request's id, shared by the access log, which
// gives each request one, and the wsgi Container, whose error responses
// name it: the header that carries it, what a sane one looks like, and a
// new one.
package requestid

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Header carries a request's id, on requests and responses.
const Header = "X-Request-Id"

// maxLen is the longest id taken from a request.
const maxLen = 200

// Sane reports whether id, as a client or proxy sent it, may be used: 1 to
// 200 letters, digits and -_.:+=/@, nothing a log line or a header could
// be split by.
func Sane(id string) bool {
	if id == "" || len(id) > maxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.:+=/@", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// New returns a new id: 16 random bytes in hex.
func New() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
