package asgi

import (
	"encoding/json"
	"os/exec"
	"reflect"
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
	out, err := exec.Command(python, "../internal/asgiws/testdata/wsclient.py", url).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("wsclient.py: %v\n%s\nlog:\n%s", err, msg, ts.logs)
	}
	var seen map[string]any
	if err := json.Unmarshal(out, &seen); err != nil {
		t.Fatalf("wsclient.py printed %q: %v", out, err)
	}
	want := map[string]any{
		"subprotocol":  "chat.v2",
		"extensions":   "permessage-deflate; client_no_context_takeover; server_no_context_takeover",
		"text":         "héllo",
		"binary":       []any{0.0, 1.0, 2.0},
		"big_ok":       true,
		"server_close": []any{4001.0, "done"},
	}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("the client saw\n%v\nwant\n%v\nlog:\n%s", seen, want, ts.logs)
	}
}
