package asgiws

import (
	"context"
	"io"
	"testing"

	"github.com/coder/websocket"
)

// BenchmarkEcho: one 64-byte text message echoed through Serve and a fake
// app, with a coder/websocket client in the same process: the Go side's
// cost per round trip (the client's included), with buffers of the
// connection's own and with lent ones (Options.Buffers).
func BenchmarkEcho(b *testing.B) {
	b.Run("own", func(b *testing.B) { benchEcho(b, Options{Done: func(error) {}}) })
	b.Run("lent", func(b *testing.B) { benchEcho(b, Options{Done: func(error) {}, Buffers: new(Buffers)}) })
}

func benchEcho(b *testing.B, opts Options) {
	srv, _ := newServer(b, opts, func(a app) {
		a.receive() // connect
		a.send(accept)
		for {
			m := a.receive()
			if m["type"] != "websocket.receive" {
				a.end(io.EOF)
				return
			}
			a.send(Message{"type": "websocket.send", "text": m["text"]})
		}
	})
	defer srv.Close()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, wsURL(srv, "/ws"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	msg := make([]byte, 64)
	for i := range msg {
		msg[i] = 'a'
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
