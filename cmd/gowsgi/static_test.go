package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestStatic serves files under two --static mounts in front of an app
// that echoes its path: the files come from Go, everything else from the
// app, which never sees a request under a mount.
func TestStatic(t *testing.T) {
	needPython(t)
	t.Parallel()
	dir, media := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.3f2a9c1b.css"), []byte("body{}"), 0o644)
	os.WriteFile(filepath.Join(media, "a.txt"), []byte("media"), 0o644)
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1",
		"--static", "/static="+dir, "--static=/static/media/="+media, "apps:where")
	addr := c.Addr()
	cases := []struct {
		path, body string
		code       int
		cache      string
	}{
		{"/static/app.3f2a9c1b.css", "body{}", 200, "public, max-age=31536000, immutable"},
		{"/static/media/a.txt", "media", 200, "public, max-age=60"},
		{"/static/missing.css", "", 404, ""},
		{"/static/", "", 404, ""},
		{"/static", "", 404, ""},
		{"/static/./media/../app.3f2a9c1b.css", "body{}", 200, ""},
		{"/static/../other", "|/static/../other|", 200, ""},
		{"/staticfiles/x", "|/staticfiles/x|", 200, ""},
		{"/other", "|/other|", 200, ""},
	}
	for _, tc := range cases {
		resp, err := http.Get("http://" + addr + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || (tc.body != "" && string(body) != tc.body) {
			t.Errorf("GET %s: %d %q; want %d %q", tc.path, resp.StatusCode, body, tc.code, tc.body)
		}
		if tc.cache != "" && resp.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("GET %s: Cache-Control %q; want %q", tc.path, resp.Header.Get("Cache-Control"), tc.cache)
		}
	}
	c.Signal(syscall.SIGTERM)
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d; want 0", status)
	}
}

func TestStaticFlag(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	cases := []struct {
		args []string
		want []staticMount
		err  string
	}{
		{[]string{"--static", "/static=" + dir}, []staticMount{{"/static", dir}}, ""},
		{[]string{"--static", "/s/=" + dir, "--static", "/m=" + dir}, []staticMount{{"/s", dir}, {"/m", dir}}, ""},
		{[]string{"--static", "static=" + dir}, nil, "must start with /"},
		{[]string{"--static", "/=" + dir}, nil, "must start with /"},
		{[]string{"--static", "/s"}, nil, "is not URL=DIR"},
		{[]string{"--static", "/s=" + file}, nil, "is not a directory"},
		{[]string{"--static", "/s=/nonexistent"}, nil, "is not a directory"},
		{[]string{"--static", "/s=" + dir, "--static", "/s/=" + dir}, nil, "mounted twice"},
	}
	for _, tc := range cases {
		var stderr strings.Builder
		o, _, status := parseServe(append(tc.args, "app:x"), io.Discard, &stderr)
		if tc.err != "" {
			if o != nil || status != exitUsage || !strings.Contains(stderr.String(), tc.err) {
				t.Errorf("%q: status %d, stderr %q; want %d and %q", tc.args, status, firstLine(stderr.String()), exitUsage, tc.err)
			}
			continue
		}
		if o == nil {
			t.Errorf("%q: status %d: %s", tc.args, status, firstLine(stderr.String()))
			continue
		}
		if len(o.static) != len(tc.want) {
			t.Errorf("%q: %v; want %v", tc.args, o.static, tc.want)
			continue
		}
		for i := range tc.want {
			if o.static[i] != tc.want[i] {
				t.Errorf("%q: %v; want %v", tc.args, o.static, tc.want)
			}
		}
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestStaticDotfilesFlag: --static does not serve a hidden file, and does
// with --static-dotfiles; the app behind gets neither request.
func TestStaticDotfilesFlag(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".env"), []byte("SECRET=1"), 0o644)
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Errorf("the app got %s", r.URL.Path) })
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"--static", "/s=" + dir}, 404},
		{[]string{"--static", "/s=" + dir, "--static-dotfiles"}, 200},
	} {
		o, _, status := parseServe(append(tc.args, "app:x"), io.Discard, io.Discard)
		if o == nil {
			t.Fatalf("%q: status %d", tc.args, status)
		}
		mux, err := newStaticMux(o.static, o.staticDotfiles)
		if err != nil {
			t.Fatal(err)
		}
		mux.next = app
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "/s/.env", nil))
		mux.Close()
		if w.Code != tc.code {
			t.Errorf("%q: GET /s/.env: %d %q; want %d", tc.args, w.Code, w.Body, tc.code)
		}
	}
}
