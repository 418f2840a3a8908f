package asgiws

import (
	"crypto/tls"
	"encoding/pem"
	"strings"
)

// TLS is the "tls" extension of the ASGI TLS spec for a connection over
// TLS, which both scopes (http and websocket) carry in "extensions":
//
//   - client_cert_chain: the certificates the client sent, its own first,
//     each PEM-encoded; empty without one.
//   - client_cert_name: the subject of the client's certificate as an RFC
//     4514 distinguished name ("CN=alice,O=Example,C=FR"), or None.
//   - client_cert_error: None. A certificate that fails verification ends
//     the handshake in Go's TLS server, so a request never sees one; one
//     the server only requested, unverified, is not an error either.
//   - tls_version, cipher_suite: the protocol version (0x0303 for TLS 1.2,
//     0x0304 for 1.3) and the cipher suite's IANA number.
//   - server_cert: None: net/http does not tell a handler which of the
//     server's certificates the handshake chose.
//
// The spec forbids the extension on a connection without TLS: callers
// give it only for a request whose TLS is not nil.
func TLS(cs *tls.ConnectionState) Message {
	chain := make([]any, len(cs.PeerCertificates))
	for i, c := range cs.PeerCertificates {
		chain[i] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	var name any
	if len(cs.PeerCertificates) > 0 {
		name = strings.ToValidUTF8(cs.PeerCertificates[0].Subject.String(), "\uFFFD")
	}
	return Message{
		"server_cert":       nil,
		"client_cert_chain": chain,
		"client_cert_name":  name,
		"client_cert_error": nil,
		"tls_version":       int(cs.Version),
		"cipher_suite":      int(cs.CipherSuite),
	}
}
