package asgi

import (
	"net/http"
	"strings"

	"github.com/gowsgi/gowsgi/internal/asgiws"
	"github.com/gowsgi/gowsgi/internal/worker"
)

// httpScope is the http connection scope of r: every key of the ASGI HTTP
// spec but "asgi" and "state", which the worker adds. The keys an http and
// a websocket scope share are asgiws.Scope's.
func (c *Container) httpScope(r *http.Request) worker.Message {
	s := worker.Message(asgiws.Scope(r, c.cfg.Prefix))
	delete(s, "subprotocols")
	s["type"] = "http"
	s["scheme"] = "http"
	if r.TLS != nil {
		s["scheme"] = "https"
	}
	s["method"] = r.Method
	ext := map[string]any{"http.response.pathsend": map[string]any{}}
	if trailersAllowed(r) {
		ext["http.response.trailers"] = map[string]any{}
	}
	s["extensions"] = ext
	return s
}

// trailersAllowed reports whether the client takes trailers: HTTP/2 always
// does, HTTP/1.1 when it says "TE: trailers" (RFC 9110, 10.1.4).
func trailersAllowed(r *http.Request) bool {
	if r.ProtoMajor >= 2 {
		return true
	}
	for _, v := range r.Header.Values("Te") {
		for _, t := range strings.Split(v, ",") {
			t, _, _ = strings.Cut(t, ";")
			if strings.EqualFold(strings.TrimSpace(t), "trailers") {
				return true
			}
		}
	}
	return false
}

// isWebSocket reports a WebSocket handshake (RFC 6455): an HTTP/1.1 GET
// with "Upgrade: websocket".
func isWebSocket(r *http.Request) bool {
	for _, v := range r.Header.Values("Upgrade") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "websocket") {
				return true
			}
		}
	}
	return false
}
