package accesslog

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestRequestID(t *testing.T) {
	cases := []struct {
		name string
		in   []string // X-Request-ID values sent
		keep bool     // the first is kept
	}{
		{"absent", nil, false},
		{"uuid", []string{"0b9e4f4c-6c2a-4c8e-9d0f-2f7f1f6c9a11"}, true},
		{"trace", []string{"Root=1-67891233-abcdef012345678912345678"}, true},
		{"base64", []string{"aGVsbG8+d29ybGQ/=="}, true},
		{"question mark", []string{"a?b"}, false},
		{"b64url", []string{"aGVsbG8-d29ybGQ_"}, true},
		{"200 chars", []string{strings.Repeat("a", 200)}, true},
		{"201 chars", []string{strings.Repeat("a", 201)}, false},
		{"space", []string{"a b"}, false},
		{"newline", []string{"a\nb"}, false},
		{"quote", []string{`a"b`}, false},
		{"semicolon", []string{"a;b"}, false},
		{"empty", []string{""}, false},
		{"two", []string{"first", "second"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var seen []string
			h := New(Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = r.Header.Values("X-Request-ID")
			}))
			r := httptest.NewRequest("GET", "/", nil)
			for _, v := range tc.in {
				r.Header.Add("X-Request-ID", v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Values("X-Request-ID")
			if len(got) != 1 || len(seen) != 1 || got[0] != seen[0] {
				t.Fatalf("the app saw %q, the response has %q; want one ID, the same", seen, got)
			}
			if tc.keep && got[0] != tc.in[0] {
				t.Errorf("ID %q; want the request's %q", got[0], tc.in[0])
			}
			if !tc.keep && !hex32.MatchString(got[0]) {
				t.Errorf("ID %q; want a new one, 32 hex digits", got[0])
			}
		})
	}
}

func TestNewIDsDiffer(t *testing.T) {
	ids := make(map[string]bool)
	h := New(Config{}, http.NotFoundHandler())
	for range 100 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		ids[w.Header().Get("X-Request-ID")] = true
	}
	if len(ids) != 100 {
		t.Errorf("100 requests got %d distinct IDs", len(ids))
	}
}

// app answers as the request's query says, and records itself as worker 3
// unless told not to.
func app(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("static") == "" {
		FromContext(r.Context()).Worker = 3
	}
	if q.Get("echo") != "" {
		w.Header().Add("X-Request-ID", r.Header.Get("X-Request-ID"))
	}
	if q.Get("code") == "404" {
		http.NotFound(w, r)
		return
	}
	if q.Get("empty") != "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	io.WriteString(w, "hello")
	if rf, ok := w.(io.ReaderFrom); ok {
		rf.ReadFrom(strings.NewReader(" world"))
	}
}

func TestLine(t *testing.T) {
	const ts = `\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]`
	cases := []struct {
		format Format
		target string
		hdr    map[string]string
		want   string // a regexp of the whole line
	}{
		{Common, "/a?b=1", nil,
			`^192\.0\.2\.1 - - ` + ts + ` "GET /a\?b=1 HTTP/1\.1" 200 11 rid=r1 worker=3 duration=\d+\.\d{6}\n$`},
		{Common, "/x?code=404&static=1", nil,
			`^192\.0\.2\.1 - - ` + ts + ` "GET /x\?code=404&static=1 HTTP/1\.1" 404 19 rid=r1 worker=- duration=`},
		{Common, "/?empty=1", nil, `" 204 - rid=r1 worker=3 `},
		{Combined, "/", map[string]string{"Referer": "http://ref/", "User-Agent": `evil"agent` + "\n" + `x\y`},
			`" 200 11 "http://ref/" "evil\\"agent\\x0ax\\\\y" rid=r1 worker=3 duration=`},
		{Combined, "/", map[string]string{"Authorization": "Basic dXNlcjpwdw=="}, `^192\.0\.2\.1 - user \[.* "-" "-" rid=r1 `},
		{JSON, "/a?b=1", map[string]string{"User-Agent": "ua"}, `^\{"time":"[^"]+Z","id":"r1","remote_addr":"192\.0\.2\.1","method":"GET","uri":"/a\?b=1","proto":"HTTP/1\.1","host":"example\.com","status":200,"bytes":11,"duration":[0-9.e-]+,"user_agent":"ua","worker":3\}\n$`},
		{Off, "/", nil, `^$`},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		h := New(Config{Format: tc.format, Output: &out}, http.HandlerFunc(app))
		r := httptest.NewRequest("GET", tc.target, nil)
		r.Header.Set("X-Request-ID", "r1")
		for k, v := range tc.hdr {
			r.Header.Set(k, v)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if !regexp.MustCompile(tc.want).MatchString(out.String()) {
			t.Errorf("%v %s: line\n%q\ndoes not match\n%q", tc.format, tc.target, out.String(), tc.want)
		}
		if tc.format == JSON {
			var v map[string]any
			if err := json.Unmarshal(out.Bytes(), &v); err != nil {
				t.Errorf("JSON line %q: %v", out.String(), err)
			}
		}
	}
}

func TestObserve(t *testing.T) {
	var got []Record
	h := New(Config{Observe: func(r *Record) { got = append(got, *r) }}, http.HandlerFunc(app))
	slow := New(Config{Observe: func(r *Record) { got = append(got, *r) }}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/?code=404", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	slow.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	want := []struct {
		method string
		status int
		bytes  int64
		worker int
	}{{"POST", 404, 19, 3}, {"GET", 200, 11, 3}, {"GET", 200, 0, -1}}
	if len(got) != len(want) {
		t.Fatalf("Observe called %d times; want %d", len(got), len(want))
	}
	for i, w := range want {
		if g := got[i]; g.Method != w.method || g.Status != w.status || g.Bytes != w.bytes || g.Worker != w.worker {
			t.Errorf("record %d: %s %d %d bytes worker %d; want %s %d %d bytes worker %d", i, g.Method, g.Status, g.Bytes, g.Worker,
				w.method, w.status, w.bytes, w.worker)
		}
	}
	if d := got[2].Duration; d < 20*time.Millisecond {
		t.Errorf("a 20ms request lasted %v", d)
	}
}

// TestWriterPassesThrough checks that the recording writer keeps what the
// handlers under it rely on: ReadFrom (sendfile), flushing both ways, and
// that an app echoing the ID does not make it appear twice.
func TestWriterPassesThrough(t *testing.T) {
	h := New(Config{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("the writer is not an io.ReaderFrom")
		}
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the writer is not an http.Flusher")
		}
		w.Header().Add("X-Request-ID", r.Header.Get("X-Request-ID"))
		io.WriteString(w, "a")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !w.Flushed {
		t.Error("not flushed")
	}
	if ids := w.Header().Values("X-Request-ID"); len(ids) != 1 {
		t.Errorf("X-Request-ID %q; want one", ids)
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{Off, Common, Combined, JSON} {
		if g, err := ParseFormat(f.String()); g != f || err != nil {
			t.Errorf("ParseFormat(%q) = %v, %v", f.String(), g, err)
		}
	}
	if _, err := ParseFormat("apache"); err == nil || !strings.Contains(err.Error(), `"apache"`) {
		t.Errorf("ParseFormat(apache): %v; want an error naming it", err)
	}
}
