package asgiws

import (
	"io"
	"os"
	"os/exec"
	"reflect"
	"testing"
)

// debianPython has python3-websockets (scripts/install-deps).
const debianPython = "/usr/bin/python3"

// TestInteropPythonWebsockets: Debian's python3-websockets as the client,
// against an echo app: the subprotocol chosen, permessage-deflate, text,
// binary, a large fragmented message, close codes and reasons both ways.
func TestInteropPythonWebsockets(t *testing.T) {
	if _, err := os.Stat(debianPython); err != nil {
		t.Skipf("%s: %v (scripts/install-deps)", debianPython, err)
	}
	disconnects := make(chan Message, 2)
	srv, results := newServer(t, Options{Compression: true, Buffers: new(Buffers)}, func(a app) {
		a.expect(Message{"type": "websocket.connect"})
		// The second connection offers none: the handshake then has none.
		a.send(Message{"type": "websocket.accept", "subprotocol": "chat.v2"})
		for {
			m := a.receive()
			switch {
			case m["type"] != "websocket.receive":
				disconnects <- m
				a.end(io.EOF)
				return
			case m["text"] == "close-me":
				a.send(Message{"type": "websocket.close", "code": 4001, "reason": "done"})
			default:
				a.send(Message{"type": "websocket.send", "bytes": m["bytes"], "text": m["text"]})
			}
		}
	})
	out, err := exec.CommandContext(testContext(t), debianPython, "testdata/wsclient.py", wsURL(srv, "/ws")).CombinedOutput()
	if err != nil {
		t.Fatalf("wsclient.py: %v\n%s", err, out)
	}
	got := map[any]any{}
	for range 2 {
		m := <-disconnects
		got[m["code"]] = m["reason"]
		if res := result(t, results); res.err != nil {
			t.Errorf("Serve returned %v", res.err)
		}
	}
	if want := map[any]any{4000: "bye", 4001: "done"}; !reflect.DeepEqual(got, want) {
		t.Errorf("the app's websocket.disconnect codes and reasons: %v, want %v", got, want)
	}
}
