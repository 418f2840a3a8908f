package main

import (
	"context"
	"io"
	"net/http"
	"strings"

	"github.com/coder/websocket"
)

// isWebSocket reports whether r asks to become a WebSocket.
func isWebSocket(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// wsEcho is bench/apps/wsecho.py's WebSocket in Go: every message goes
// back as it came, with the library gowsgi uses (and its defaults), so the
// WebSocket scenarios show what the sockets alone cost.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered the client
	}
	defer c.CloseNow()
	// Not the request's context: it ends when the handler hijacks.
	ctx := context.Background()
	for {
		typ, rd, err := c.Reader(ctx)
		if err != nil {
			return
		}
		wr, err := c.Writer(ctx, typ)
		if err != nil {
			return
		}
		if _, err := io.Copy(wr, rd); err != nil {
			return
		}
		if err := wr.Close(); err != nil {
			return
		}
	}
}
