package asgiws

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Scope returns the websocket connection scope of r for an app mounted at
// rootPath ("" for the root): every key of the spec except "asgi" and
// "state", which the worker adds. "path" is r.URL.Path whole (the request
// target, percent-decoded, a byte that is not UTF-8 replaced by U+FFFD as
// Python's unquote does; it includes rootPath, as uvicorn gives it),
// "raw_path" the path as the client sent it, "headers" every request header
// with its name lower-cased, "host" first, values in the order received.
// "extensions" advertises websocket.http.response (the denial response),
// and over TLS carries "tls" (see TLS).
func Scope(r *http.Request, rootPath string) Message {
	scheme := "ws"
	ext := Message{"websocket.http.response": Message{}}
	if r.TLS != nil {
		scheme = "wss"
		ext["tls"] = TLS(r.TLS)
	}
	return Message{
		"type":         "websocket",
		"http_version": httpVersion(r),
		"scheme":       scheme,
		"path":         strings.ToValidUTF8(r.URL.Path, "\uFFFD"),
		"raw_path":     []byte(r.URL.EscapedPath()),
		"query_string": []byte(r.URL.RawQuery),
		"root_path":    rootPath,
		"headers":      Headers(r),
		"client":       client(r),
		"server":       server(r),
		"subprotocols": subprotocols(r),
		"extensions":   ext,
	}
}

func httpVersion(r *http.Request) string {
	if r.ProtoMajor == 2 {
		return "2"
	}
	return "1.1"
}

// Headers returns r's headers as an ASGI headers list: "host" first (net/http
// keeps it out of r.Header), then each header, its name lower-cased, with
// every value in the order received. net/http does not keep the order of
// different names; the spec asks only that of one name's values.
func Headers(r *http.Request) []any {
	h := make([]any, 0, len(r.Header)+1)
	if r.Host != "" {
		h = append(h, []any{[]byte("host"), []byte(r.Host)})
	}
	for name, values := range r.Header {
		key := []byte(strings.ToLower(name))
		for _, v := range values {
			h = append(h, []any{key, []byte(v)})
		}
	}
	return h
}

// client returns [host, port] of the peer, or nil when RemoteAddr is not an
// address and port (a Unix socket's peer).
func client(r *http.Request) any {
	host, port, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return nil
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil
	}
	return []any{host, p}
}

// server returns [host, port] of the listening address, [path, None] for a
// Unix socket, or nil if the request did not come through a net/http server.
func server(r *http.Request) any {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return nil
	}
	if a.Network() == "unix" {
		return []any{a.String(), nil}
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return nil
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil
	}
	return []any{host, p}
}

// subprotocols returns the Sec-WebSocket-Protocol tokens the client offered,
// in its order; a header line may list several, comma-separated.
func subprotocols(r *http.Request) []any {
	var list []any
	for _, line := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(line, ",") {
			if p = strings.TrimSpace(p); p != "" && utf8.ValidString(p) {
				list = append(list, p)
			}
		}
	}
	if list == nil {
		list = []any{}
	}
	return list
}
