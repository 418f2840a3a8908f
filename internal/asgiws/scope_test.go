package asgiws

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

// TestScope: the websocket scope keys of a request, as the spec types them.
func TestScope(t *testing.T) {
	tests := []struct {
		name   string
		target string
		setup  func(r *http.Request)
		root   string
		want   Message // keys to check
	}{
		{
			name:   "path decoded, raw_path and query_string as sent",
			target: "/chat/caf%C3%A9%2Fx?room=a%20b&x",
			root:   "/chat",
			want: Message{
				"type": "websocket", "http_version": "1.1", "scheme": "ws",
				"path": "/chat/café/x", "raw_path": []byte("/chat/caf%C3%A9%2Fx"),
				"query_string": []byte("room=a%20b&x"), "root_path": "/chat",
				"client": []any{"192.0.2.1", 1234}, "server": []any{"127.0.0.1", 8000},
				"subprotocols": []any{},
				"extensions":   Message{"websocket.http.response": Message{}},
			},
		},
		{
			name:   "a path that is not UTF-8",
			target: "/%FF",
			want:   Message{"path": "/\uFFFD", "raw_path": []byte("/%FF"), "root_path": ""},
		},
		{
			name:   "TLS, subprotocols in two header lines, headers lower-cased, host first",
			target: "/",
			setup: func(r *http.Request) {
				r.TLS = &tls.ConnectionState{Version: tls.VersionTLS12, CipherSuite: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
				r.Header = http.Header{}
				r.Header.Add("Sec-WebSocket-Protocol", "a, b")
				r.Header.Add("Sec-WebSocket-Protocol", "c")
				r.Host = "example.com"
			},
			want: Message{
				"scheme": "wss", "subprotocols": []any{"a", "b", "c"},
				"extensions": Message{"websocket.http.response": Message{}, "tls": Message{
					"server_cert": nil, "client_cert_chain": []any{}, "client_cert_name": nil,
					"client_cert_error": nil, "tls_version": 0x0303, "cipher_suite": 0xc02f}},
				"headers": []any{
					[]any{[]byte("host"), []byte("example.com")},
					[]any{[]byte("sec-websocket-protocol"), []byte("a, b")},
					[]any{[]byte("sec-websocket-protocol"), []byte("c")},
				},
			},
		},
		{
			name:   "a Unix socket: no client, server [path, None]",
			target: "/",
			setup: func(r *http.Request) {
				r.RemoteAddr = "@"
				*r = *r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey,
					&net.UnixAddr{Name: "/run/app.sock", Net: "unix"}))
			},
			want: Message{"client": nil, "server": []any{"/run/app.sock", nil}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			r.RemoteAddr = "192.0.2.1:1234"
			r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey,
				&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8000}))
			if tt.setup != nil {
				tt.setup(r)
			}
			got := Scope(r, tt.root)
			for k, v := range tt.want {
				if !reflect.DeepEqual(got[k], v) {
					t.Errorf("scope[%q] = %#v, want %#v", k, got[k], v)
				}
			}
		})
	}
}

// TestPayloadLen: text counts in code points, as Python's len does.
func TestPayloadLen(t *testing.T) {
	for _, tt := range []struct {
		msg  Message
		want int
	}{
		{Message{"type": "websocket.send", "text": "héllo"}, 5},
		{Message{"type": "websocket.receive", "bytes": []byte("héllo")}, 6},
		{Message{"type": "websocket.http.response.body", "body": []byte("abc")}, 3},
		{Message{"type": "websocket.accept"}, 0},
	} {
		if got := PayloadLen(tt.msg); got != tt.want {
			t.Errorf("PayloadLen(%v) = %d, want %d", tt.msg, got, tt.want)
		}
	}
}
