package examples

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFastAPI runs examples/fastapi as its docstring says: --interface
// auto (the default) finds an ASGI app, and says so.
func TestFastAPI(t *testing.T) {
	needModule(t, "fastapi")
	t.Parallel()
	p := start(t, gowsgiBin, "serve", "--bind", "127.0.0.1:0", "--python", debianPython,
		"--chdir", "examples/fastapi", "--workers", "2", "--access-log", "common", "app:app")
	if line := p.WaitLine("interface detected"); !strings.Contains(line, "interface=asgi") {
		t.Errorf("start-up log %q: want interface=asgi", line)
	}
	base := "http://" + p.Addr()
	r := do(t, nil, "GET", base+"/items/7?q=x", nil)
	var item map[string]any
	if err := json.Unmarshal([]byte(r.body), &item); err != nil || r.code != 200 || item["item_id"] != 7.0 || item["q"] != "x" {
		t.Errorf("GET /items/7?q=x: %d %q", r.code, r.body)
	}
	r = do(t, nil, "GET", base+"/api/info", nil)
	if r.code != 200 || !strings.Contains(r.body, `"started_by":"lifespan"`) {
		t.Errorf("GET /api/info: %d %q", r.code, r.body)
	}
	r = do(t, nil, "GET", base+"/events?n=2", nil)
	if r.code != 200 || r.body != "id: 0\ndata: event 0\n\nid: 1\ndata: event 1\n\n" {
		t.Errorf("GET /events: %d %q", r.code, r.body)
	}
	p.Stop()
}

// TestInterfaceAuto: auto takes a WSGI app for WSGI.
func TestInterfaceAutoWSGI(t *testing.T) {
	t.Parallel()
	p := start(t, gowsgiBin, "serve", "--chdir", "examples/hello", "hello:simple_app", "--bind", "127.0.0.1:0",
		"-w", "1", "--python", debianPython)
	if line := p.WaitLine("interface detected"); !strings.Contains(line, "interface=wsgi") {
		t.Errorf("start-up log %q: want interface=wsgi", line)
	}
	if r := do(t, nil, "GET", "http://"+p.Addr()+"/", nil); r.body != "Hello world!\n" {
		t.Errorf("GET /: %d %q", r.code, r.body)
	}
	p.Stop()
}
