package asgi

import (
	"os/exec"
	"strings"
	"testing"
)

// TestWebSocketInterop: Debian's python3-websockets as the client of a
// plain ASGI echo on a real worker: subprotocol, permessage-deflate, text,
// binary, a 64 KiB fragmented message, close codes and reasons both ways
// (the client script is internal/asgiws's).
func TestWebSocketInterop(t *testing.T) {
	needPython(t, "websockets")
	ts := start(t, "wsecho:app", func(cfg *Config) { cfg.WebSocketCompression = true })
	url := "ws" + strings.TrimPrefix(ts.srv.URL, "http") + "/ws"
	out, err := exec.Command(python, "../internal/asgiws/testdata/wsclient.py", url).CombinedOutput()
	if err != nil {
		t.Fatalf("wsclient.py: %v\n%s\nlog:\n%s", err, out, ts.logs)
	}
}
