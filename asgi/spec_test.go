package asgi

import (
	"encoding/json"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestScope: the http scope of ASGI 2.4, as the app sees it.
func TestScope(t *testing.T) {
	ts := start(t, "spec:app", func(c *Config) { c.Prefix = "/pre" })
	req := httpRequest(t, "GET", ts.srv.URL+"/pre/scope/caf%C3%A9%2Fx?a=1&b=%20", nil)
	req.Header.Add("X-Dup", "1")
	req.Header.Add("X-Dup", "2")
	resp, body := ts.do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s\nlog:\n%s", resp.StatusCode, body, ts.logs)
	}
	var s map[string]any
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	want := map[string]any{
		"type":         "http",
		"http_version": "1.1",
		"method":       "GET",
		"scheme":       "http",
		"path":         "/pre/scope/café/x",
		"raw_path":     "/pre/scope/caf%C3%A9%2Fx",
		"query_string": "a=1&b=%20",
		"root_path":    "/pre",
	}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("scope[%q] = %#v, want %#v", k, s[k], v)
		}
	}
	if a, _ := s["asgi"].(map[string]any); a["version"] != "3.0" {
		t.Errorf("scope[asgi] = %v, want version 3.0", s["asgi"])
	}
	var dups []string
	for _, h := range s["headers"].([]any) {
		pair := h.([]any)
		if name := pair[0].(string); name != strings.ToLower(name) {
			t.Errorf("header name %q not lower-cased", name)
		} else if name == "x-dup" {
			dups = append(dups, pair[1].(string))
		}
	}
	if strings.Join(dups, ",") != "1,2" {
		t.Errorf("x-dup headers %q, want 1 then 2", dups)
	}
	if c, _ := s["client"].([]any); len(c) != 2 || c[0] != "127.0.0.1" {
		t.Errorf("client %v", s["client"])
	}
	if c, _ := s["server"].([]any); len(c) != 2 || c[0] != "127.0.0.1" {
		t.Errorf("server %v", s["server"])
	}
	ext, _ := s["extensions"].(map[string]any)
	if _, ok := ext["http.response.pathsend"]; !ok {
		t.Errorf("extensions %v: no http.response.pathsend", ext)
	}
	if _, ok := ext["http.response.trailers"]; ok {
		t.Errorf("extensions %v: trailers advertised to a client that did not say TE: trailers", ext)
	}
	if st, _ := s["state"].(map[string]any); st["greeting"] != "hello from lifespan" {
		t.Errorf("state %v: not the lifespan's", s["state"])
	}
	if info := ts.c.Info(); info.Lifespan != "on" || info.Loop == "" {
		t.Errorf("Info %+v: want lifespan on and a loop", info)
	}
}

// TestResponses: streamed, large, trailers, pathsend.
func TestResponses(t *testing.T) {
	ts := start(t, "spec:app", nil)
	if resp, body := ts.get(t, "/stream"); resp.StatusCode != 200 || body != "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n" {
		t.Errorf("/stream: %d %q", resp.StatusCode, body)
	}
	// Far past the window: the app's send() waits for Go's Credit.
	if resp, body := ts.get(t, "/big?5000000"); resp.StatusCode != 200 || len(body) != 5000000 || resp.ContentLength != 5000000 {
		t.Errorf("/big: %d, %d bytes (Content-Length %d)", resp.StatusCode, len(body), resp.ContentLength)
	}
	req := httpRequest(t, "GET", ts.srv.URL+"/trailers", nil)
	req.Header.Set("TE", "trailers")
	if resp, body := ts.do(t, req); body != "body" || resp.Trailer.Get("X-Checksum") != "abc" {
		t.Errorf("/trailers: %q, trailers %v", body, resp.Trailer)
	}
}

// TestAppErrors: what Go answers for an app that fails.
func TestAppErrors(t *testing.T) {
	ts := start(t, "spec:app", nil)
	for _, tc := range []struct{ path, log string }{
		{"/raise", "boom before start"},
		{"/noresponse", "returned without sending a response"},
		{"/badheader", "control character"},
		{"/hopbyhop", "hop-by-hop header"},
		{"/status?99", "status 99"},
	} {
		resp, body := ts.get(t, tc.path)
		if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "request id: ") {
			t.Errorf("%s: %d %q, want 500 with a request id", tc.path, resp.StatusCode, body)
		}
		if strings.Contains(body, tc.log) {
			t.Errorf("%s: the body tells the client %q", tc.path, tc.log)
		}
		ts.awaitLog(t, tc.log)
	}
	// After the start, the response is cut, never complete-looking.
	resp, err := ts.srv.Client().Get(ts.srv.URL + "/raise-after")
	if err == nil {
		_, err = readAll(resp)
	}
	if err == nil {
		t.Errorf("/raise-after: the response looks complete")
	}
	ts.awaitLog(t, "boom after start")
}

// TestPathPython: the plain-ASGI behaviours under the python3 first on
// PATH (a pyenv build here, without uvloop: asyncio's loop), not only
// Debian's.
func TestPathPython(t *testing.T) {
	path, err := exec.LookPath("python3")
	if err != nil || path == python {
		t.Skipf("no other python3 on PATH (%q, %v)", path, err)
	}
	ts := start(t, "spec:app", func(c *Config) { c.Python = path; c.Prefix = "/p" })
	if info := ts.c.Info(); info.Lifespan != "on" || info.Python == python {
		t.Errorf("Info %+v: want %s with lifespan", info, path)
	}
	req := httpRequest(t, "POST", ts.srv.URL+"/p/echo", strings.NewReader(strings.Repeat("y", 300000)))
	if resp, body := ts.do(t, req); resp.StatusCode != 200 || len(body) != 300000 {
		t.Errorf("/p/echo: %d, %d bytes", resp.StatusCode, len(body))
	}
	if _, body := ts.get(t, "/p/stream"); body != "chunk 0\nchunk 1\nchunk 2\nchunk 3\nchunk 4\n" {
		t.Errorf("/p/stream: %q", body)
	}
	if resp, _ := ts.get(t, "/p/raise"); resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("/p/raise: %d", resp.StatusCode)
	}
}

// TestNoBody: HEAD, 204 and 304 responses carry no body, whatever the app
// sends.
func TestNoBody(t *testing.T) {
	ts := start(t, "spec:app", nil)
	if resp, body := ts.do(t, httpRequest(t, "HEAD", ts.srv.URL+"/stream", nil)); resp.StatusCode != 200 || body != "" {
		t.Errorf("HEAD /stream: %d %q", resp.StatusCode, body)
	}
	for _, code := range []string{"204", "304"} {
		if resp, body := ts.get(t, "/status?"+code); resp.StatusCode != atoi(code) || body != "" {
			t.Errorf("/status?%s: %d %q", code, resp.StatusCode, body)
		}
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
