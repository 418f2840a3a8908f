package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

// TestGoHello: every path answers the hello app's body, /download the
// download app's 10 MB with its Content-Length.
func TestGoHello(t *testing.T) {
	ts := httptest.NewServer(newGoHello())
	defer ts.Close()
	for _, tc := range []struct {
		path string
		size int
		body string
	}{
		{"/", len(helloBody), helloBody},
		{"/any/path?q=1", len(helloBody), helloBody},
		{"/download", downloadSize, ""},
	} {
		resp, err := http.Get(ts.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(b) != tc.size || tc.body != "" && string(b) != tc.body ||
			resp.ContentLength != int64(tc.size) {
			t.Errorf("GET %s: %s, %d bytes (Content-Length %d), err %v", tc.path, resp.Status, len(b), resp.ContentLength, err)
		}
	}
}

// TestGoHelloWebSocket: a WebSocket on any path echoes text and binary
// messages as they came.
func TestGoHelloWebSocket(t *testing.T) {
	ts := httptest.NewServer(newGoHello())
	defer ts.Close()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http")+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for _, m := range []struct {
		typ  websocket.MessageType
		data string
	}{{websocket.MessageText, "hello"}, {websocket.MessageBinary, "\x00\x01"}, {websocket.MessageText, ""}} {
		if err := c.Write(ctx, m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
		typ, b, err := c.Read(ctx)
		if err != nil || typ != m.typ || string(b) != m.data {
			t.Errorf("echo of %v %q: %v %q, err %v", m.typ, m.data, typ, b, err)
		}
	}
}
