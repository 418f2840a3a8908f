package wsgi

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The framework tests run real Flask and Django sites, from Debian's
// packages under Debian's Python, in a real Container behind a real HTTP
// server, and look at them only as a browser or an HTTP client would:
// status, headers, cookies and body bytes.

// fwSetup is one way of running a site: each framework test runs under all
// of them, so that mounting and threads change nothing a user can see.
type fwSetup struct {
	name             string
	prefix           string
	workers, threads int
}

var fwSetups = []fwSetup{
	{name: "root", workers: 2},
	{name: "under /app", prefix: "/app", workers: 2},
	// One process serving four requests at once: the session and CSRF
	// machinery must not rely on one request per process.
	{name: "one worker four threads", workers: 1, threads: 4},
}

// fwSite is a started framework app, seen from outside.
type fwSite struct {
	*testServer
	setup fwSetup
}

func startSite(t *testing.T, setup fwSetup, cfg Config) *fwSite {
	t.Helper()
	cfg.Prefix = setup.prefix
	cfg.Workers = setup.workers
	cfg.Threads = setup.threads
	return &fwSite{testServer: startApp(t, cfg), setup: setup}
}

// path is the path the client uses for the app's own path p.
func (s *fwSite) path(p string) string { return s.setup.prefix + p }

// url is the absolute URL of the app's path p.
func (s *fwSite) url(p string) string { return s.URL + s.setup.prefix + p }

// browser returns a client with its own cookie jar that follows redirects,
// as a browser would.
func (s *fwSite) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: s.Client().Transport, Jar: jar}
}

// noRedirects returns a client that hands back redirects instead of
// following them.
func (s *fwSite) noRedirects() *http.Client {
	return &http.Client{
		Transport: s.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// fwSend does req with client and returns the response and its whole body.
func fwSend(t *testing.T, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

func fwRequest(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// fwPostForm is an application/x-www-form-urlencoded POST.
func fwPostForm(t *testing.T, url string, form url.Values) *http.Request {
	t.Helper()
	req := fwRequest(t, "POST", url, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// fwJSON decodes body into a map, failing t with the body if it is not
// JSON: an HTML error page then shows in the failure.
func fwJSON(t *testing.T, resp *http.Response, body []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("%s: not JSON (%v): %.500q", resp.Status, err, body)
	}
	return v
}

// fwExpect fails t for each key of want whose value in got differs.
func fwExpect(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if g := got[k]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %#v, want %#v", k, g, w)
		}
	}
}

func fwRandom(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func fwSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// fwFile is one file of a multipart upload.
type fwFile struct {
	field, filename, contentType string
	data                         []byte
}

// fwMultipart encodes fields (in order, as name/value pairs) and files as
// multipart/form-data.
func fwMultipart(t *testing.T, fields []string, files []fwFile) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		if err := mw.WriteField(fields[i], fields[i+1]); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.filename)}
		h["Content-Type"] = []string{f.contentType}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(f.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// fwBody returns body as a request body of known length, or, if chunked,
// as a reader whose length net/http cannot see, so that it sends it with
// Transfer-Encoding: chunked.
func fwBody(body []byte, chunked bool) (io.Reader, int64) {
	if chunked {
		return io.MultiReader(bytes.NewReader(body)), -1
	}
	return bytes.NewReader(body), int64(len(body))
}

// Upload sizes either side of the Container's in-memory threshold
// (Config.MaxMemoryBody's default, 1 MiB).
const (
	fwSmall = 10 << 10
	fwBig   = 3 << 20
)

func TestFlask(t *testing.T) {
	requireModule(t, "flask")
	for _, setup := range fwSetups {
		t.Run(setup.name, func(t *testing.T) {
			spool := t.TempDir()
			s := startSite(t, setup, Config{
				App:      "flaskapp:app",
				SpoolDir: spool,
				Env:      []string{"FLASKAPP_SPOOL_DIR=" + spool},
			})
			t.Run("JSON endpoint", func(t *testing.T) { testFlaskJSON(t, s) })
			t.Run("form POST", func(t *testing.T) { testFlaskForm(t, s) })
			t.Run("multipart upload", func(t *testing.T) { testFlaskUpload(t, s) })
			t.Run("cookies", func(t *testing.T) { testFlaskCookies(t, s) })
			t.Run("session", func(t *testing.T) { testFlaskSession(t, s) })
			t.Run("redirects", func(t *testing.T) { testFlaskRedirects(t, s) })
			t.Run("non-ASCII paths", func(t *testing.T) { testFlaskPaths(t, s) })
			t.Run("request headers", func(t *testing.T) { testFlaskHeaders(t, s) })
			t.Run("streamed response", func(t *testing.T) { testFlaskStream(t, s) })
			t.Run("error view", func(t *testing.T) { testFlaskError(t, s) })
			t.Run("send_file", func(t *testing.T) { testFlaskSendFile(t, s) })
		})
	}
}

func testFlaskJSON(t *testing.T, s *fwSite) {
	resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", s.url("/api/info"), nil))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s, Content-Type %q: %.300q", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	fwExpect(t, fwJSON(t, resp, body), map[string]any{
		"path":         "/api/info",
		"script_root":  s.setup.prefix,
		"url":          s.url("/api/info"),
		"url_for_self": s.path("/api/info"),
		"multithread":  s.setup.threads > 1,
		"multiprocess": s.setup.workers > 1,
	})
}

func testFlaskForm(t *testing.T, s *fwSite) {
	tests := []struct {
		name string
		form url.Values
	}{
		{"ASCII", url.Values{"name": {"Ada"}, "city": {"London"}}},
		{"non-ASCII", url.Values{"name": {"Zoë Łukasiewicz"}, "city": {"Zürich"}, "drink": {"☕ 🍵"}}},
		{"reserved characters", url.Values{"q": {"a&b=c+d %20 ;/?"}}},
		{"repeated and empty fields", url.Values{"tag": {"x", "y", ""}, "empty": {""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fwSend(t, s.Client(), fwPostForm(t, s.url("/form"), tc.form))
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %.300q", resp.Status, body)
			}
			var got struct {
				ContentType string              `json:"content_type"`
				Fields      map[string][]string `json:"fields"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("%v: %.300q", err, body)
			}
			if got.ContentType != "application/x-www-form-urlencoded" {
				t.Errorf("the app saw Content-Type %q", got.ContentType)
			}
			if !reflect.DeepEqual(got.Fields, map[string][]string(tc.form)) {
				t.Errorf("the app got fields %q, want %q", got.Fields, tc.form)
			}
		})
	}
}

func testFlaskUpload(t *testing.T, s *fwSite) {
	tests := []struct {
		name     string
		size     int
		filename string
		chunked  bool
		spooled  bool // past the in-memory threshold
	}{
		{"small file", fwSmall, "notes.txt", false, false},
		{"empty file", 0, "empty.txt", false, false},
		{"non-ASCII file name", fwSmall, "café résumé.bin", false, false},
		{"3 MiB file spooled to disk", fwBig, "big.bin", false, true},
		{"chunked small file", fwSmall, "chunked.bin", true, false},
		{"chunked 3 MiB file spooled to disk", fwBig, "chunked-big.bin", true, true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := fwRandom(tc.size, uint64(i))
			payload, ctype := fwMultipart(t,
				[]string{"title", "Über uns", "kind", "upload"},
				[]fwFile{{"file", tc.filename, "application/octet-stream", data}})
			body, length := fwBody(payload, tc.chunked)
			req := fwRequest(t, "POST", s.url("/upload"), body)
			req.ContentLength = length
			req.Header.Set("Content-Type", ctype)
			resp, rbody := fwSend(t, s.Client(), req)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %.300q", resp.Status, rbody)
			}
			got := fwJSON(t, resp, rbody)
			spooled := 0.0
			if tc.spooled {
				spooled = 1
			}
			fwExpect(t, got, map[string]any{
				"fields": map[string]any{"title": "Über uns", "kind": "upload"},
				"files": map[string]any{"file": map[string]any{
					"filename":     tc.filename,
					"content_type": "application/octet-stream",
					"size":         float64(tc.size),
					"sha256":       fwSHA256(data),
				}},
				// A chunked body has its length once the Container has
				// read it whole: Werkzeug needs that or input_terminated.
				"content_length":   float64(len(payload)),
				"input_terminated": true,
				"spooled":          spooled,
			})
		})
	}
}

func testFlaskCookies(t *testing.T, s *fwSite) {
	b := s.browser(t)
	resp, body := fwSend(t, b, fwRequest(t, "GET", s.url("/cookies/set?flavour=oatmeal"), nil))
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %.300q", resp.Status, body)
	}
	// Two cookies are two Set-Cookie header lines, never joined into one.
	if n := len(resp.Header.Values("Set-Cookie")); n != 2 {
		t.Errorf("%d Set-Cookie headers, want 2: %q", n, resp.Header.Values("Set-Cookie"))
	}
	cookies := make(map[string]*http.Cookie)
	for _, c := range resp.Cookies() {
		cookies[c.Name] = c
	}
	if c := cookies["flavour"]; c == nil || c.Value != "oatmeal" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Errorf("flavour cookie: %+v", c)
	}
	if c := cookies["visits"]; c == nil || c.Value != "1" || c.MaxAge != 3600 {
		t.Errorf("visits cookie: %+v", c)
	}

	// The jar sends them back.
	resp, body = fwSend(t, b, fwRequest(t, "GET", s.url("/cookies"), nil))
	fwExpect(t, fwJSON(t, resp, body), map[string]any{"flavour": "oatmeal", "visits": "1"})

	// Two Cookie header lines (as HTTP/2 clients split them) reach the app
	// as one, joined with "; ".
	req := fwRequest(t, "GET", s.url("/cookies"), nil)
	req.Header.Add("Cookie", "a=1; b=2")
	req.Header.Add("Cookie", "c=3")
	resp, body = fwSend(t, s.Client(), req)
	got := fwJSON(t, resp, body)
	if want := map[string]any{"a": "1", "b": "2", "c": "3"}; !reflect.DeepEqual(got, want) {
		t.Errorf("cookies from two header lines: %v, want %v", got, want)
	}
}

func testFlaskSession(t *testing.T, s *fwSite) {
	// Several browsers at once, each with its own signed session cookie:
	// with threads, their requests share a process.
	const browsers, visits = 4, 3
	var wg sync.WaitGroup
	for i := range browsers {
		wg.Go(func() {
			b := s.browser(t)
			for want := 1; want <= visits; want++ {
				resp, err := b.Post(s.url("/session/count"), "", nil)
				if err != nil {
					t.Errorf("browser %d: %v", i, err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var got struct{ N int }
				if err := json.Unmarshal(body, &got); err != nil || got.N != want {
					t.Errorf("browser %d, visit %d: %s %.200q", i, want, resp.Status, body)
					return
				}
			}
		})
	}
	wg.Wait()

	// A session cookie whose signature does not match is ignored: the
	// count starts again.
	b := s.browser(t)
	resp, _ := fwSend(t, b, fwRequest(t, "POST", s.url("/session/count"), nil))
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "session" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly {
		t.Fatalf("no HttpOnly session cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	// Flask's cookie is payload.timestamp.signature: put {"n":99} in the
	// payload and keep the rest.
	_, rest, _ := strings.Cut(session.Value, ".")
	req := fwRequest(t, "POST", s.url("/session/count"), nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: "eyJuIjo5OX0." + rest})
	resp, body := fwSend(t, s.Client(), req)
	fwExpect(t, fwJSON(t, resp, body), map[string]any{"n": 1.0})
}

func testFlaskRedirects(t *testing.T, s *fwSite) {
	// url_for builds the Location under the mount point (SCRIPT_NAME).
	resp, _ := fwSend(t, s.noRedirects(), fwRequest(t, "GET", s.url("/old"), nil))
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != s.path("/api/info") {
		t.Errorf("GET /old: %s, Location %q, want 302 to %q", resp.Status, resp.Header.Get("Location"), s.path("/api/info"))
	}
	resp, body := fwSend(t, s.browser(t), fwRequest(t, "GET", s.url("/old"), nil))
	if resp.StatusCode != 200 || resp.Request.URL.Path != s.path("/api/info") {
		t.Fatalf("following /old: %s at %s: %.300q", resp.Status, resp.Request.URL, body)
	}
	fwExpect(t, fwJSON(t, resp, body), map[string]any{"path": "/api/info"})

	// Post/redirect/get: the session set by the POST is there after the
	// redirect.
	b := s.browser(t)
	resp, body = fwSend(t, b, fwPostForm(t, s.url("/login"), url.Values{"user": {"Zoë"}}))
	if resp.StatusCode != 200 || resp.Request.URL.Path != s.path("/whoami") || resp.Request.Method != "GET" {
		t.Fatalf("login: %s at %s %s: %.300q", resp.Status, resp.Request.Method, resp.Request.URL, body)
	}
	fwExpect(t, fwJSON(t, resp, body), map[string]any{"user": "Zoë", "path": "/whoami"})
}

func testFlaskPaths(t *testing.T, s *fwSite) {
	tests := []struct {
		name, target string // target as sent, percent-encoded
		status       int
		want         map[string]any
	}{
		{
			name:   "café",
			target: "/caf%C3%A9",
			status: 200,
			want: map[string]any{
				"path":         "/café",
				"url_for_self": s.path("/caf%C3%A9"),
				"raw_uri":      s.path("/caf%C3%A9"),
			},
		},
		{
			// %2F is a slash by the time PATH_INFO is decoded (PEP 3333),
			// so <path:...> sees one; RAW_URI still has it as sent.
			name:   "encoded slash and UTF-8 in a path variable",
			target: "/files/a%2Fb/caf%C3%A9%20cr%C3%A8me.txt",
			status: 200,
			want: map[string]any{
				"name":    "a/b/café crème.txt",
				"raw_uri": s.path("/files/a%2Fb/caf%C3%A9%20cr%C3%A8me.txt"),
			},
		},
		{
			name:   "decomposed é is another path",
			target: "/cafe%CC%81",
			status: 404,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", s.url(tc.target), nil))
			if resp.StatusCode != tc.status {
				t.Fatalf("GET %s: %s, want %d: %.300q", tc.target, resp.Status, tc.status, body)
			}
			if tc.want != nil {
				fwExpect(t, fwJSON(t, resp, body), tc.want)
			}
		})
	}
	// A client that writes the path unencoded is sent the same page.
	resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", s.url("/café"), nil))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /café: %s", resp.Status)
	}
	fwExpect(t, fwJSON(t, resp, body), map[string]any{"path": "/café"})
}

func testFlaskHeaders(t *testing.T, s *fwSite) {
	req := fwRequest(t, "GET", s.url("/headers"), nil)
	req.Header.Set("User-Agent", "gowsgi-test/1.0")
	req.Header.Set("Accept-Language", "fr-CH, fr;q=0.9")
	req.Header.Set("X-Custom", "hello, world")
	req.Header.Add("X-Multi", "a")
	req.Header.Add("X-Multi", "b")
	// A name with "_" could pass for X-Under-Score: the Container drops it.
	req.Header["X-Under_Score"] = []string{"spoofed"}
	resp, body := fwSend(t, s.Client(), req)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %.300q", resp.Status, body)
	}
	fwExpect(t, fwJSON(t, resp, body), map[string]any{
		"user_agent":      "gowsgi-test/1.0",
		"accept_language": "fr-CH, fr;q=0.9",
		"custom":          "hello, world",
		"multi":           "a, b",
		"underscored":     nil,
		"host":            s.Listener.Addr().String(),
	})
	if got := resp.Header.Get("X-Echo"); got != "hello, world" {
		t.Errorf("X-Echo: %q", got)
	}
}

func testFlaskStream(t *testing.T, s *fwSite) {
	fifo := mkfifo(t)
	// Were a chunk held back, the read would wait for the next one, which
	// waits for us: the deadline turns that deadlock into a failure.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", s.url("/stream?fifo="+url.QueryEscape(fifo)), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength != -1 {
		t.Fatalf("%s, Content-Length %d: want 200 without a length", resp.Status, resp.ContentLength)
	}
	br := bufio.NewReader(resp.Body)
	for i := range 3 {
		if i > 0 {
			// Let the generator make the next chunk: it has not yet.
			if err := os.WriteFile(fifo, []byte("next\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		line, err := br.ReadString('\n')
		if want := fmt.Sprintf("chunk %d of %s\n", i, fifo[len(fifo)-4:]); err != nil || line != want {
			t.Fatalf("chunk %d: %q, %v; want %q", i, line, err, want)
		}
	}
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Errorf("after the last chunk: %q, %v", rest, err)
	}
}

func testFlaskError(t *testing.T, s *fwSite) {
	resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", s.url("/boom"), nil))
	if resp.StatusCode != 500 || !bytes.Contains(body, []byte("Internal Server Error")) {
		t.Errorf("%s: %.300q", resp.Status, body)
	}
	// Flask logs the traceback to wsgi.errors, which is the server log.
	s.logs.await(t, "Exception on /boom [GET]", "ZeroDivisionError")
	// And the next request is served as usual.
	if resp, _ := fwSend(t, s.Client(), fwRequest(t, "GET", s.url("/api/info"), nil)); resp.StatusCode != 200 {
		t.Errorf("after the error: %s", resp.Status)
	}
}

func testFlaskSendFile(t *testing.T, s *fwSite) {
	data := fwRandom(300<<10+17, 42)
	path := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	target := s.url("/download?path=" + url.QueryEscape(path))

	resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", target, nil))
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %.300q", resp.Status, body)
	}
	if !bytes.Equal(body, data) {
		t.Errorf("got %d bytes (sha256 %s), want the file's %d (%s)", len(body), fwSHA256(body), len(data), fwSHA256(data))
	}
	for k, want := range map[string]string{
		"Content-Length":      strconv.Itoa(len(data)),
		"Content-Type":        "application/octet-stream",
		"Content-Disposition": "attachment; filename=data.bin",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}

	// Werkzeug answers a range request from the same file wrapper.
	req := fwRequest(t, "GET", target, nil)
	req.Header.Set("Range", "bytes=1000-1999")
	resp, body = fwSend(t, s.Client(), req)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, data[1000:2000]) ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 1000-1999/%d", len(data)) {
		t.Errorf("range: %s, Content-Range %q, %d bytes", resp.Status, resp.Header.Get("Content-Range"), len(body))
	}

	// And a conditional one with nothing at all.
	etag := resp.Header.Get("ETag")
	req = fwRequest(t, "GET", target, nil)
	req.Header.Set("If-None-Match", etag)
	resp, body = fwSend(t, s.Client(), req)
	if etag == "" || resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match %q: %s, %d bytes", etag, resp.Status, len(body))
	}
}

func TestDjango(t *testing.T) {
	requireModule(t, "django")
	for _, setup := range fwSetups {
		t.Run(setup.name, func(t *testing.T) {
			spool := t.TempDir()
			s := startSite(t, setup, Config{
				App:      "djangoapp.wsgi:application",
				SpoolDir: spool,
				Env:      []string{"DJANGOAPP_SPOOL_DIR=" + spool},
			})
			t.Run("template view", func(t *testing.T) { testDjangoTemplate(t, s) })
			t.Run("form with CSRF", func(t *testing.T) { testDjangoForm(t, s) })
			t.Run("multipart upload", func(t *testing.T) { testDjangoUpload(t, s) })
			t.Run("session", func(t *testing.T) { testDjangoSession(t, s) })
			t.Run("redirects", func(t *testing.T) { testDjangoRedirects(t, s) })
			t.Run("non-ASCII path", func(t *testing.T) { testDjangoPath(t, s) })
			t.Run("request.META", func(t *testing.T) { testDjangoMeta(t, s) })
			t.Run("not found", func(t *testing.T) { testDjangoNotFound(t, s) })
			t.Run("server error", func(t *testing.T) { testDjangoError(t, s) })
		})
	}
}

func testDjangoTemplate(t *testing.T, s *fwSite) {
	resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", s.url("/?name="+url.QueryEscape("<b>Zoë</b>")), nil))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("%s, Content-Type %q: %.300q", resp.Status, resp.Header.Get("Content-Type"), body)
	}
	for _, want := range []string{
		"<h1>Hello, &lt;b&gt;Zoë&lt;/b&gt;!</h1>", // autoescaped, UTF-8
		`<a href="` + s.path("/caf%C3%A9/") + `">Café</a>`,
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
}

// djangoCSRFToken GETs the form page with b, as a browser would before a
// POST, and returns the form's hidden token; the csrftoken cookie is then
// in b's jar.
func djangoCSRFToken(t *testing.T, s *fwSite, b *http.Client) string {
	t.Helper()
	resp, body := fwSend(t, b, fwRequest(t, "GET", s.url("/form/"), nil))
	if resp.StatusCode != 200 {
		t.Fatalf("GET /form/: %s", resp.Status)
	}
	m := djangoTokenField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no csrfmiddlewaretoken in the form:\n%s", body)
	}
	u, _ := url.Parse(s.url("/form/"))
	for _, c := range b.Jar.Cookies(u) {
		if c.Name == "csrftoken" && c.Value != "" {
			return string(m[1])
		}
	}
	t.Fatalf("no csrftoken cookie; Set-Cookie: %q", resp.Header.Values("Set-Cookie"))
	return ""
}

var djangoTokenField = regexp.MustCompile(`<input type="hidden" name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)">`)

func testDjangoForm(t *testing.T, s *fwSite) {
	tests := []struct {
		name     string
		form     url.Values
		token    string // "" for the page's, "-" for none
		noCookie bool   // a client without the csrftoken cookie
		status   int
		want     map[string]any
	}{
		{
			name:   "valid",
			form:   url.Values{"name": {"Ada"}, "message": {"Hello"}},
			status: 200,
			want:   map[string]any{"name": "Ada", "message": "Hello"},
		},
		{
			name:   "non-ASCII values",
			form:   url.Values{"name": {"Zoë Łukasiewicz"}, "message": {"Grüße aus Zürich ☕"}},
			status: 200,
			want:   map[string]any{"name": "Zoë Łukasiewicz", "message": "Grüße aus Zürich ☕"},
		},
		{
			name:   "invalid",
			form:   url.Values{"name": {"Ada"}},
			status: 400,
			want:   map[string]any{"errors": map[string]any{"message": []any{"This field is required."}}},
		},
		{
			name:   "without the token",
			form:   url.Values{"name": {"Ada"}, "message": {"Hello"}},
			token:  "-",
			status: 403,
		},
		{
			name:   "with a wrong token",
			form:   url.Values{"name": {"Ada"}, "message": {"Hello"}},
			token:  strings.Repeat("x", 64),
			status: 403,
		},
		{
			name:     "without the cookie",
			form:     url.Values{"name": {"Ada"}, "message": {"Hello"}},
			noCookie: true,
			status:   403,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := s.browser(t)
			token := djangoCSRFToken(t, s, b)
			form := url.Values{}
			for k, v := range tc.form {
				form[k] = v
			}
			switch tc.token {
			case "":
				form.Set("csrfmiddlewaretoken", token)
			case "-":
			default:
				form.Set("csrfmiddlewaretoken", tc.token)
			}
			client := b
			if tc.noCookie {
				client = s.Client()
			}
			resp, body := fwSend(t, client, fwPostForm(t, s.url("/form/"), form))
			if resp.StatusCode != tc.status {
				t.Fatalf("%s, want %d: %.500q", resp.Status, tc.status, body)
			}
			if tc.status == 403 && !bytes.Contains(body, []byte("CSRF verification failed")) {
				t.Errorf("a 403 that is not Django's CSRF failure: %.500q", body)
			}
			if tc.want != nil {
				fwExpect(t, fwJSON(t, resp, body), tc.want)
			}
		})
	}
}

func testDjangoUpload(t *testing.T, s *fwSite) {
	tests := []struct {
		name     string
		size     int
		filename string
		chunked  bool
		spooled  bool // past the Container's in-memory threshold
		noToken  bool
	}{
		{name: "small file", size: fwSmall, filename: "notes.txt"},
		{name: "non-ASCII file name", size: fwSmall, filename: "café résumé.bin"},
		{name: "3 MiB file spooled to disk", size: fwBig, filename: "big.bin", spooled: true},
		{name: "chunked 3 MiB file spooled to disk", size: fwBig, filename: "chunked-big.bin", chunked: true, spooled: true},
		{name: "without the CSRF token", size: fwSmall, filename: "notes.txt", noToken: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := s.browser(t)
			token := djangoCSRFToken(t, s, b)
			data := fwRandom(tc.size, uint64(100+i))
			payload, ctype := fwMultipart(t,
				[]string{"title", "Über uns"},
				[]fwFile{{"file", tc.filename, "application/octet-stream", data}})
			body, length := fwBody(payload, tc.chunked)
			req := fwRequest(t, "POST", s.url("/upload/"), body)
			req.ContentLength = length
			req.Header.Set("Content-Type", ctype)
			// The token in a header, as JavaScript sends it.
			if !tc.noToken {
				req.Header.Set("X-CSRFToken", token)
			}
			resp, rbody := fwSend(t, b, req)
			if tc.noToken {
				if resp.StatusCode != 403 {
					t.Errorf("%s, want 403: %.300q", resp.Status, rbody)
				}
				return
			}
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %.300q", resp.Status, rbody)
			}
			spooled := 0.0
			if tc.spooled {
				spooled = 1
			}
			fwExpect(t, fwJSON(t, resp, rbody), map[string]any{
				"fields": map[string]any{"title": "Über uns"},
				"files": map[string]any{"file": map[string]any{
					"filename": tc.filename,
					"size":     float64(tc.size),
					"sha256":   fwSHA256(data),
				}},
				"content_length": strconv.Itoa(len(payload)),
				"spooled":        spooled,
			})
		})
	}
}

func testDjangoSession(t *testing.T, s *fwSite) {
	const browsers, visits = 4, 3
	var wg sync.WaitGroup
	for i := range browsers {
		wg.Go(func() {
			b := s.browser(t)
			for want := 1; want <= visits; want++ {
				resp, err := b.Get(s.url("/count/"))
				if err != nil {
					t.Errorf("browser %d: %v", i, err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var got struct{ N int }
				if err := json.Unmarshal(body, &got); err != nil || got.N != want {
					t.Errorf("browser %d, visit %d: %s %.200q", i, want, resp.Status, body)
					return
				}
			}
		})
	}
	wg.Wait()

	// A signed cookie that was tampered with is no session at all.
	resp, _ := fwSend(t, s.Client(), fwRequest(t, "GET", s.url("/count/"), nil))
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "sessionid" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly {
		t.Fatalf("no HttpOnly sessionid cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	// The value is payload:timestamp:signature; change the payload.
	_, rest, _ := strings.Cut(session.Value, ":")
	req := fwRequest(t, "GET", s.url("/count/"), nil)
	req.AddCookie(&http.Cookie{Name: "sessionid", Value: "eyJuIjo5OX0:" + rest})
	resp, body := fwSend(t, s.Client(), req)
	fwExpect(t, fwJSON(t, resp, body), map[string]any{"n": 1.0})
}

func testDjangoRedirects(t *testing.T, s *fwSite) {
	tests := []struct {
		name, target string
		status       int
		location     string
	}{
		{"redirect() to a named view", "/old/", http.StatusFound, s.path("/")},
		// CommonMiddleware's APPEND_SLASH, which escapes the path again.
		{"appended slash", "/meta", http.StatusMovedPermanently, s.path("/meta/")},
		{"appended slash to a non-ASCII path", "/caf%C3%A9", http.StatusMovedPermanently, s.path("/caf%C3%A9/")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fwSend(t, s.noRedirects(), fwRequest(t, "GET", s.url(tc.target), nil))
			if resp.StatusCode != tc.status || resp.Header.Get("Location") != tc.location {
				t.Fatalf("GET %s: %s to %q, want %d to %q: %.300q", tc.target, resp.Status, resp.Header.Get("Location"), tc.status, tc.location, body)
			}
			resp, body = fwSend(t, s.browser(t), fwRequest(t, "GET", s.url(tc.target), nil))
			if resp.StatusCode != 200 || resp.Request.URL.EscapedPath() != tc.location {
				t.Errorf("following %s: %s at %s: %.300q", tc.target, resp.Status, resp.Request.URL, body)
			}
		})
	}
}

func testDjangoPath(t *testing.T, s *fwSite) {
	for _, target := range []string{"/caf%C3%A9/", "/café/"} {
		resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", s.url(target), nil))
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s: %.300q", target, resp.Status, body)
		}
		fwExpect(t, fwJSON(t, resp, body), map[string]any{
			"path":      s.path("/café/"),
			"path_info": "/café/",
			"reverse":   s.path("/caf%C3%A9/"),
		})
	}
}

func testDjangoMeta(t *testing.T, s *fwSite) {
	addr := s.Listener.Addr().String()
	host, port, _ := strings.Cut(addr, ":")
	resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", s.url("/meta/?x=1&y=%C3%A9"), nil))
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %.300q", resp.Status, body)
	}
	fwExpect(t, fwJSON(t, resp, body), map[string]any{
		"meta": map[string]any{
			"SCRIPT_NAME":    s.setup.prefix,
			"PATH_INFO":      "/meta/",
			"REMOTE_ADDR":    "127.0.0.1",
			"SERVER_NAME":    host,
			"SERVER_PORT":    port,
			"HTTP_HOST":      addr,
			"QUERY_STRING":   "x=1&y=%C3%A9",
			"REQUEST_METHOD": "GET",
		},
		"path":         s.path("/meta/"),
		"host":         addr,
		"absolute_uri": s.url("/meta/?x=1&y=%C3%A9"),
		"secure":       false,
	})

	// A Host outside ALLOWED_HOSTS: Django refuses it itself.
	req := fwRequest(t, "GET", s.url("/meta/"), nil)
	req.Host = "evil.example"
	if resp, body := fwSend(t, s.Client(), req); resp.StatusCode != 400 {
		t.Errorf("Host evil.example: %s, want 400: %.300q", resp.Status, body)
	}
}

func testDjangoNotFound(t *testing.T, s *fwSite) {
	for _, target := range []string{"/nope/", "/caf%C3%A9/more/"} {
		resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", s.url(target), nil))
		// Django's own page, not the server's.
		if resp.StatusCode != 404 || !bytes.Contains(body, []byte("<h1>Not Found</h1>")) {
			t.Errorf("GET %s: %s: %.300q", target, resp.Status, body)
		}
	}
}

func testDjangoError(t *testing.T, s *fwSite) {
	resp, body := fwSend(t, s.Client(), fwRequest(t, "GET", s.url("/boom/"), nil))
	if resp.StatusCode != 500 || !bytes.Contains(body, []byte("Server Error (500)")) {
		t.Errorf("%s: %.300q", resp.Status, body)
	}
	s.logs.await(t, "Internal Server Error: "+s.path("/boom/"), "ZeroDivisionError")
}
