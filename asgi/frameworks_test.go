package asgi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
	"github.com/gowsgi/gowsgi/wsgi"
)

// startIn starts a container of any interface for a test, stopped at its
// end.
func startIn(t *testing.T, c interface {
	http.Handler
	Start(context.Context) error
	Shutdown(context.Context) error
}, logs *proctest.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v\nlog:\n%s", err, logs)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := c.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
}

// TestOneMux: a FastAPI app (examples/fastapi), a Flask app
// (examples/flask, WSGI) and a Go handler in one http.ServeMux, one server.
func TestOneMux(t *testing.T) {
	needPython(t, "fastapi", "flask", "multipart")
	logs := new(proctest.Buffer)
	log := slog.New(slog.NewTextHandler(logs, nil))
	// Starlette before 0.33 (Debian 12 has 0.26) routes on a path without
	// root_path, which the ASGI spec's path includes (Config.Prefix): such
	// an app is mounted with http.StripPrefix instead.
	fast, err := NewContainer(Config{Config: wsgi.Config{App: "app:app", Python: python, Dir: "../examples/fastapi",
		Workers: 1, Logger: log}})
	if err != nil {
		t.Fatal(err)
	}
	flask, err := wsgi.NewContainer(wsgi.Config{App: "app:app", Python: python, Dir: "../examples/flask",
		Workers: 1, Prefix: "/flask", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	startIn(t, fast, logs)
	startIn(t, flask, logs)
	mux := http.NewServeMux()
	mux.Handle("/fast/", http.StripPrefix("/fast", fast))
	mux.Handle("/flask/", flask)
	mux.HandleFunc("/go", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from Go") })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	ts := &testServer{srv: srv, logs: logs}

	if _, body := ts.get(t, "/go"); body != "from Go" {
		t.Errorf("/go: %q", body)
	}
	if resp, body := ts.get(t, "/flask/api/info"); resp.StatusCode != 200 || !strings.Contains(body, `"framework":"flask"`) {
		t.Errorf("/flask/api/info: %d %q", resp.StatusCode, body)
	}
	var info map[string]any
	getJSON(t, ts, "/fast/api/info", &info)
	if info["framework"] != "fastapi" || info["path"] != "/api/info" || info["started_by"] != "lifespan" {
		t.Errorf("/fast/api/info: %v; want fastapi, /api/info, lifespan state", info)
	}
	var item map[string]any
	getJSON(t, ts, "/fast/items/42?q=caf%C3%A9&limit=3", &item)
	if item["item_id"] != 42.0 || item["q"] != "café" || item["limit"] != 3.0 {
		t.Errorf("/fast/items/42: %v", item)
	}
	if resp, body := ts.get(t, "/fast/items/notanint"); resp.StatusCode != 422 {
		t.Errorf("/fast/items/notanint: %d %q, want 422", resp.StatusCode, body)
	}
	req := httpRequest(t, "POST", srv.URL+"/fast/items", strings.NewReader(`{"name": "Zoë", "tags": [1, 2]}`))
	req.Header.Set("Content-Type", "application/json")
	if _, body := ts.do(t, req); body != `{"created":{"name":"Zoë","tags":[1,2]}}` {
		t.Errorf("POST /fast/items: %q", body)
	}

	// Form and file upload (multipart), 300 KB: past the stream's window.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("name", "report")
	fw, _ := mw.CreateFormFile("file", "report.bin")
	fw.Write(bytes.Repeat([]byte("0123456789"), 30000))
	mw.Close()
	req = httpRequest(t, "POST", srv.URL+"/fast/upload", &form)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var up map[string]any
	resp, body := ts.do(t, req)
	if err := json.Unmarshal([]byte(body), &up); err != nil || up["name"] != "report" || up["filename"] != "report.bin" ||
		up["size"] != 300000.0 || up["head"] != "0123456789012345" {
		t.Errorf("POST /fast/upload: %d %q", resp.StatusCode, body)
	}

	if _, body := ts.get(t, "/fast/stream?n=4"); body != "line 0\nline 1\nline 2\nline 3\n" {
		t.Errorf("/fast/stream: %q", body)
	}
	resp, body = ts.get(t, "/fast/events?n=2")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") ||
		body != "id: 0\ndata: event 0\n\nid: 1\ndata: event 1\n\n" {
		t.Errorf("/fast/events: %s %q", ct, body)
	}

	// A background task runs after the response.
	if resp, _ := ts.do(t, httpRequest(t, "POST", srv.URL+"/fast/notify/bg", nil)); resp.StatusCode != 200 {
		t.Errorf("/fast/notify: %d", resp.StatusCode)
	}
	awaitDone(t, ts, "bg", "background task ran")

	// A client that leaves mid-stream: the app sees it disconnected.
	r, err := srv.Client().Get(srv.URL + "/fast/watch/w1")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(r.Body, buf); err != nil || string(buf) != "tick\n" {
		t.Fatalf("/fast/watch: %q %v", buf, err)
	}
	r.Body.Close()
	awaitDone(t, ts, "w1", "client disconnected")
}

func getJSON(t *testing.T, ts *testServer, path string, v any) {
	t.Helper()
	resp, body := ts.get(t, path)
	if err := json.Unmarshal([]byte(body), v); err != nil || resp.StatusCode != 200 {
		t.Fatalf("%s: %d %q: %v\nlog:\n%s", path, resp.StatusCode, body, err, ts.logs)
	}
}

func awaitDone(t *testing.T, ts *testServer, key, want string) {
	t.Helper()
	proctest.Poll(t, 10*time.Second, key+": "+want, func() (any, bool) {
		var d map[string]any
		getJSON(t, ts, "/fast/done/"+key, &d)
		return d["done"], d["done"] == want
	})
}

// TestDjango: Django's get_asgi_application, async and sync views.
func TestDjango(t *testing.T) {
	needPython(t, "django")
	ts := start(t, "djasgi:application", func(c *Config) { c.Prefix = "/dj" })
	var hello map[string]any
	getJSON(t, ts, "/dj/hello/zo%C3%AB?q=1", &hello)
	if hello["hello"] != "zoë" || hello["path"] != "/dj/hello/zoë" || hello["script_name"] != "/dj" || hello["q"] != "1" {
		t.Errorf("/dj/hello: %v", hello)
	}
	resp, body := ts.do(t, httpRequest(t, "POST", ts.srv.URL+"/dj/sync", strings.NewReader("posted")))
	if resp.StatusCode != 200 || body != `{"sync": true, "method": "POST", "body": "posted"}` {
		t.Errorf("POST /dj/sync: %d %q", resp.StatusCode, body)
	}
	if info := ts.c.Info(); info.Lifespan != "unsupported" {
		t.Errorf("Django's lifespan: %q, want unsupported", info.Lifespan)
	}
}
