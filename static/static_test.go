package static

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tree makes a static root with plain, hashed and precompressed files, a
// directory and symbolic links in and out of it, and returns its path.
func tree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	root := filepath.Join(base, "root")
	files := map[string]string{
		"root/app.css":               "body{color:red}",
		"root/app.css.br":            "BROTLI",
		"root/app.css.gz":            "GZIP",
		"root/only.js":               "var x = 1;",
		"root/only.js.gz":            "GZIPJS",
		"root/app.3f2a9c1b.css":      "hashed",
		"root/logo.1a2b3c4d5e6f.png": "\x89PNG",
		"root/report.v2.txt":         "not hashed",
		"root/sub/dir/file.txt":      "0123456789",
		"root/noext":                 "<html><body>hi</body></html>",
		"root/.env":                  "SECRET_KEY=x",
		"root/.git/config":           "[core]",
		"root/sub/.htpasswd":         "admin:x",
		"root/.well-known/x.txt":     "hidden dir",
		"root/.well-known/.x":        "hidden in .well-known",
		"root/sub/.well-known/x":     "not the top level",
		"secret.txt":                 "outside",
		"secretdir/inner.txt":        "outside too",
	}
	for name, body := range files {
		p := filepath.Join(base, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"root/link-in":     "app.css",
		"root/link-out":    "../secret.txt",
		"root/link-abs":    filepath.Join(base, "secret.txt"),
		"root/linkdir-out": "../secretdir",
		"root/sub/link-up": "../only.js",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(base, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func newHandler(t *testing.T, cfg Config) *Handler {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func do(h http.Handler, method, target string, hdr map[string]string) *http.Response {
	r := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func TestServe(t *testing.T) {
	h := newHandler(t, Config{Root: tree(t)})
	cases := []struct {
		name   string
		method string
		path   string
		hdr    map[string]string
		code   int
		body   string
		want   map[string]string // response headers; "" means absent
	}{
		{"plain", "GET", "/app.css", nil, 200, "body{color:red}",
			map[string]string{"Content-Type": "text/css; charset=utf-8", "Content-Encoding": "", "Vary": "Accept-Encoding",
				"Cache-Control": "public, max-age=60", "Content-Length": "15"}},
		{"head", "HEAD", "/app.css", nil, 200, "", map[string]string{"Content-Length": "15"}},
		{"brotli", "GET", "/app.css", map[string]string{"Accept-Encoding": "gzip, deflate, br"}, 200, "BROTLI",
			map[string]string{"Content-Type": "text/css; charset=utf-8", "Content-Encoding": "br", "Vary": "Accept-Encoding"}},
		{"gzip", "GET", "/app.css", map[string]string{"Accept-Encoding": "gzip"}, 200, "GZIP",
			map[string]string{"Content-Type": "text/css; charset=utf-8", "Content-Encoding": "gzip"}},
		{"br refused", "GET", "/app.css", map[string]string{"Accept-Encoding": "br;q=0, gzip;q=0.5"}, 200, "GZIP",
			map[string]string{"Content-Encoding": "gzip"}},
		{"all refused", "GET", "/app.css", map[string]string{"Accept-Encoding": "br;q=0, gzip;q=0"}, 200, "body{color:red}",
			map[string]string{"Content-Encoding": ""}},
		{"star", "GET", "/app.css", map[string]string{"Accept-Encoding": "*"}, 200, "BROTLI",
			map[string]string{"Content-Encoding": "br"}},
		{"no br sibling", "GET", "/only.js", map[string]string{"Accept-Encoding": "br, gzip"}, 200, "GZIPJS",
			map[string]string{"Content-Encoding": "gzip", "Content-Type": "text/javascript; charset=utf-8"}},
		{"sibling asked for directly", "GET", "/app.css.gz", nil, 200, "GZIP", map[string]string{"Content-Encoding": ""}},
		{"hashed", "GET", "/app.3f2a9c1b.css", nil, 200, "hashed",
			map[string]string{"Cache-Control": "public, max-age=31536000, immutable"}},
		{"django hashed", "GET", "/logo.1a2b3c4d5e6f.png", nil, 200, "\x89PNG",
			map[string]string{"Cache-Control": "public, max-age=31536000, immutable", "Content-Type": "image/png"}},
		{"not hashed", "GET", "/report.v2.txt", nil, 200, "not hashed", map[string]string{"Cache-Control": "public, max-age=60"}},
		{"sniffed type", "GET", "/noext", nil, 200, "<html><body>hi</body></html>",
			map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{"nested", "GET", "/sub/dir/file.txt", nil, 200, "0123456789", nil},
		{"range", "GET", "/sub/dir/file.txt", map[string]string{"Range": "bytes=2-5"}, 206, "2345",
			map[string]string{"Content-Range": "bytes 2-5/10", "Content-Length": "4"}},
		{"range suffix", "GET", "/sub/dir/file.txt", map[string]string{"Range": "bytes=-3"}, 206, "789", nil},
		{"range unsatisfiable", "GET", "/sub/dir/file.txt", map[string]string{"Range": "bytes=20-"}, 416, "", nil},
		{"if-modified-since", "GET", "/app.css", map[string]string{"If-Modified-Since": time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, 304, "", nil},
		{"modified since", "GET", "/app.css", map[string]string{"If-Modified-Since": time.Unix(0, 0).UTC().Format(http.TimeFormat)}, 200, "body{color:red}", nil},
		{"post", "POST", "/app.css", nil, 405, "", map[string]string{"Allow": "GET, HEAD"}},
		{"missing", "GET", "/nope.css", nil, 404, "", nil},
		{"root dir", "GET", "/", nil, 404, "", nil},
		{"dir", "GET", "/sub", nil, 404, "", nil},
		{"dir slash", "GET", "/sub/dir/", nil, 404, "", nil},
		{"file slash", "GET", "/app.css/", nil, 404, "", nil},
		{"dotdot stays in root", "GET", "/sub/../app.css", nil, 200, "body{color:red}", nil},
		{"dotdot out", "GET", "/../secret.txt", nil, 404, "", nil},
		{"encoded dotdot out", "GET", "/..%2fsecret.txt", nil, 404, "", nil},
		{"symlink inside", "GET", "/link-in", nil, 200, "body{color:red}", nil},
		{"symlink up inside", "GET", "/sub/link-up", nil, 200, "var x = 1;", nil},
		{"symlink out", "GET", "/link-out", nil, 404, "", nil},
		{"absolute symlink out", "GET", "/link-abs", nil, 404, "", nil},
		{"dir symlink out", "GET", "/linkdir-out/inner.txt", nil, 404, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(h, tc.method, tc.path, tc.hdr)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code {
				t.Fatalf("%s %s: status %d (%q); want %d", tc.method, tc.path, resp.StatusCode, body, tc.code)
			}
			if tc.body != "" && string(body) != tc.body {
				t.Errorf("%s %s: body %q; want %q", tc.method, tc.path, body, tc.body)
			}
			if tc.code == 404 && strings.Contains(string(body), "outside") {
				t.Errorf("%s %s: leaked a file outside the root: %q", tc.method, tc.path, body)
			}
			for k, v := range tc.want {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s %s: %s: %q; want %q", tc.method, tc.path, k, got, v)
				}
			}
			if tc.code == 200 && (resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "") {
				t.Errorf("%s %s: ETag %q, Last-Modified %q; want both", tc.method, tc.path, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"))
			}
		})
	}
}

// TestConditional checks that the ETag of each representation revalidates
// that representation only, and that If-Range falls back to the whole file
// once the ETag no longer matches.
func TestConditional(t *testing.T) {
	h := newHandler(t, Config{Root: tree(t)})
	plain := do(h, "GET", "/app.css", nil).Header.Get("ETag")
	br := do(h, "GET", "/app.css", map[string]string{"Accept-Encoding": "br"}).Header.Get("ETag")
	if plain == "" || br == "" || plain == br {
		t.Fatalf("ETags %q (identity) and %q (br); want two different ones", plain, br)
	}
	cases := []struct {
		name string
		hdr  map[string]string
		code int
	}{
		{"identity matches", map[string]string{"If-None-Match": plain}, 304},
		{"br matches", map[string]string{"If-None-Match": br, "Accept-Encoding": "br"}, 304},
		{"br etag, identity asked", map[string]string{"If-None-Match": br}, 200},
		{"list", map[string]string{"If-None-Match": `"x", ` + plain}, 304},
		{"stale", map[string]string{"If-None-Match": `"stale"`}, 200},
		{"if-range matches", map[string]string{"Range": "bytes=0-3", "If-Range": plain}, 206},
		{"if-range stale", map[string]string{"Range": "bytes=0-3", "If-Range": `"stale"`}, 200},
	}
	for _, tc := range cases {
		if resp := do(h, "GET", "/app.css", tc.hdr); resp.StatusCode != tc.code {
			t.Errorf("%s: %v: status %d; want %d", tc.name, tc.hdr, resp.StatusCode, tc.code)
		}
	}
}

func TestMaxAge(t *testing.T) {
	root := tree(t)
	cases := []struct {
		maxAge time.Duration
		want   string
	}{
		{0, "public, max-age=60"},
		{time.Hour, "public, max-age=3600"},
		{-1, "no-cache"},
	}
	for _, tc := range cases {
		h := newHandler(t, Config{Root: root, MaxAge: tc.maxAge})
		if got := do(h, "GET", "/app.css", nil).Header.Get("Cache-Control"); got != tc.want {
			t.Errorf("MaxAge %v: Cache-Control %q; want %q", tc.maxAge, got, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, root := range []string{"", "/nonexistent/dir", file} {
		if h, err := New(Config{Root: root}); err == nil {
			h.Close()
			t.Errorf("New(Root %q): no error", root)
		} else if root != "" && !strings.Contains(err.Error(), root) {
			t.Errorf("New(Root %q): error %q does not name it", root, err)
		}
	}
}

// readFromRecorder records what ReadFrom is given, as a TCP connection's
// response writer would take it to use sendfile.
type readFromRecorder struct {
	*httptest.ResponseRecorder
	src io.Reader
}

func (w *readFromRecorder) ReadFrom(src io.Reader) (int64, error) {
	w.src = src
	return io.Copy(w.ResponseRecorder, src)
}

// TestSendfile checks that the file reaches the response writer's ReadFrom
// as an *os.File (within an io.LimitedReader), which net/http turns into
// sendfile(2) on a TCP connection.
func TestSendfile(t *testing.T) {
	h := newHandler(t, Config{Root: tree(t)})
	for _, hdr := range []map[string]string{nil, {"Accept-Encoding": "gzip"}, {"Range": "bytes=1-2"}} {
		w := &readFromRecorder{ResponseRecorder: httptest.NewRecorder()}
		r := httptest.NewRequest("GET", "/app.css", nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		h.ServeHTTP(w, r)
		src := w.src
		if lr, ok := src.(*io.LimitedReader); ok {
			src = lr.R
		}
		if _, ok := src.(*os.File); !ok {
			t.Errorf("%v: ReadFrom got %T; want an *os.File", hdr, w.src)
		}
	}
}

func TestAccepts(t *testing.T) {
	cases := []struct {
		header, coding string
		want           bool
	}{
		{"", "br", false},
		{"br", "br", true},
		{"gzip, deflate, br, zstd", "br", true},
		{"gzip, deflate", "br", false},
		{"BR", "br", true},
		{"br;q=0", "br", false},
		{"br; q=0.0", "br", false},
		{"br;q=0.001", "br", true},
		{"br;q=junk", "br", false},
		{"*", "gzip", true},
		{"*;q=0", "gzip", false},
		{"*, gzip;q=0", "gzip", false},
		{"gzip;q=0, *", "gzip", false},
	}
	for _, tc := range cases {
		if got := accepts(tc.header, tc.coding); got != tc.want {
			t.Errorf("accepts(%q, %q) = %v; want %v", tc.header, tc.coding, got, tc.want)
		}
	}
}

// TestDotfiles: hidden files and files in hidden directories are not found
// by default, however the path spells them, and served with Dotfiles.
func TestDotfiles(t *testing.T) {
	root := tree(t)
	paths := map[string]string{
		"/.env":              "SECRET_KEY=x",
		"/.git/config":       "[core]",
		"/sub/.htpasswd":     "admin:x",
		"/sub/.well-known/x": "not the top level",
		"/.well-known/.x":    "hidden in .well-known",
		"/sub/../.env":       "SECRET_KEY=x",
		"//.env":             "SECRET_KEY=x",
		"/%2eenv":            "SECRET_KEY=x",
	}
	for _, dotfiles := range []bool{false, true} {
		h := newHandler(t, Config{Root: root, Dotfiles: dotfiles})
		for p, body := range paths {
			resp := do(h, "GET", p, nil)
			b, _ := io.ReadAll(resp.Body)
			switch {
			case !dotfiles && resp.StatusCode != http.StatusNotFound:
				t.Errorf("GET %s: %s %q; want 404", p, resp.Status, b)
			case dotfiles && (resp.StatusCode != http.StatusOK || string(b) != body):
				t.Errorf("GET %s with Dotfiles: %s %q; want 200 %q", p, resp.Status, b, body)
			}
		}
		if resp := do(h, "GET", "/app.css", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /app.css, Dotfiles %v: %s", dotfiles, resp.Status)
		}
		// RFC 8615's /.well-known/ (ACME challenges, security.txt) is public.
		resp := do(h, "GET", "/.well-known/x.txt", nil)
		if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusOK || string(b) != "hidden dir" {
			t.Errorf("GET /.well-known/x.txt, Dotfiles %v: %s %q; want 200", dotfiles, resp.Status, b)
		}
	}
}
