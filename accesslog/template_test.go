package accesslog

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// serveTemplate serves r with a Handler logging in the format tmpl, and
// an app that answers 201 with an X-Out header and 5 bytes (none for a
// HEAD), and returns the line without its newline.
func serveTemplate(t *testing.T, tmpl string, r *http.Request) string {
	t.Helper()
	tp, err := ParseTemplate(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	h := New(Config{Template: tp, Output: &out}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Out", "first")
		w.Header().Add("X-Out", `la"st`)
		w.WriteHeader(201)
		if r.Method != "HEAD" {
			w.Write([]byte("hello"))
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), r)
	line, ok := strings.CutSuffix(out.String(), "\n")
	if !ok || strings.Contains(line, "\n") {
		t.Fatalf("wrote %q; want one line", out.String())
	}
	return line
}

// TestTemplateAtoms checks each of gunicorn's atoms, as its
// access_log_format documents them, on a request through a Handler.
func TestTemplateAtoms(t *testing.T) {
	newReq := func() *http.Request {
		r := httptest.NewRequest("GET", "/a%20b/c?x=1&y=%22", nil)
		r.Host = "example.com"
		r.RemoteAddr = "192.0.2.7:5555"
		r.SetBasicAuth("alice", "secret")
		r.Header.Set("Referer", "http://ref/")
		r.Header.Set("User-Agent", `curl "8"`)
		r.Header.Add("X-Forwarded-For", "10.0.0.1")
		r.Header.Add("X-Forwarded-For", "10.0.0.2")
		return r
	}
	pid := strconv.Itoa(os.Getpid())
	cases := []struct {
		tmpl string
		want string // exact, or a regexp if it starts with ^
		req  func() *http.Request
	}{
		{"%(h)s", "192.0.2.7", nil},
		{"%(l)s", "-", nil},
		{"%(u)s", "alice", nil},
		{"%(t)s", `^\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]$`, nil},
		{`"%(r)s"`, `"GET /a%20b/c?x=1&y=%22 HTTP/1.1"`, nil},
		{"%(m)s", "GET", nil},
		{"%(U)s", "/a b/c", nil},
		{"%(q)s", "x=1&y=%22", nil},
		{"%(H)s", "HTTP/1.1", nil},
		{"%(s)s", "201", nil},
		{"%(B)s", "5", nil},
		{"%(b)s", "5", nil},
		{"%(f)s", "http://ref/", nil},
		{"%(a)s", `curl \"8\"`, nil},
		{"%(T)s", "0", nil},
		{"%(M)s", `^\d+$`, nil},
		{"%(D)s", `^\d+$`, nil},
		{"%(L)s", `^0\.\d{6}$`, nil},
		{"%(p)s", "<" + pid + ">", nil},
		{"%({x-forwarded-for}i)s", "10.0.0.2", nil}, // the last, as gunicorn's dict of headers
		{"%({X-FORWARDED-FOR}i)s", "10.0.0.2", nil},
		{"%({host}i)s", "example.com", nil},
		{"%({x-absent}i)s", "-", nil},
		{"%({x-out}o)s", `la\"st`, nil},
		{"%({x-absent}o)s", "-", nil},
		{"%({remote_addr}e)s", "192.0.2.7", nil},
		{"%({REQUEST_METHOD}e)s", "GET", nil},
		{"%({wsgi.url_scheme}e)s", "http", nil},
		{"%({http_x_forwarded_for}e)s", "10.0.0.1, 10.0.0.2", nil},
		{"%({absent}e)s", "-", nil},
		{"%(nosuch)s %(x)s %({x}z)s", "- - -", nil},
		{"100%% %(s)d", "100% 201", nil},
		{"%(h)s %(l)s %(u)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\"",
			`192.0.2.7 - alice "GET /a%20b/c?x=1&y=%22 HTTP/1.1" 201 5 "http://ref/" "curl \"8\""`, nil},
		// Empty: gunicorn's b is 0, not "-"; no user, referer or agent is "-".
		{"%(b)s %(B)s %(u)s %(f)s %(a)s %(q)s.", "0 0 - - - .", func() *http.Request {
			r := httptest.NewRequest("HEAD", "/", nil)
			r.Header.Del("User-Agent")
			return r
		}},
		// Control bytes cannot break the line.
		{"%({x-evil}i)s", `a\x0d\x0ab\x1b`, func() *http.Request {
			r := newReq()
			r.Header["X-Evil"] = []string{"a\r\nb\x1b"}
			return r
		}},
	}
	for _, tc := range cases {
		t.Run(tc.tmpl, func(t *testing.T) {
			req := newReq
			if tc.req != nil {
				req = tc.req
			}
			got := serveTemplate(t, tc.tmpl, req())
			if strings.HasPrefix(tc.want, "^") {
				if !regexp.MustCompile(tc.want).MatchString(got) {
					t.Errorf("got %q; want a match of %s", got, tc.want)
				}
			} else if got != tc.want {
				t.Errorf("got %q; want %q", got, tc.want)
			}
		})
	}
}

// TestTemplateDurations checks T, M, D and L against a Record's Duration.
func TestTemplateDurations(t *testing.T) {
	tp, err := ParseTemplate("%(T)s %(M)s %(D)s %(L)s")
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[time.Duration]string{
		0:                                   "0 0 0 0.000000",
		1500 * time.Microsecond:             "0 1 1500 0.001500",
		2*time.Second + 34*time.Millisecond: "2 2034 2034000 2.034000",
		61*time.Second + 7*time.Microsecond: "61 61000 61000007 61.000007",
	} {
		if got := string(tp.Append(nil, &Record{Duration: d})); got != want+"\n" {
			t.Errorf("%v: got %q; want %q", d, got, want)
		}
	}
}

// TestParseTemplateErrors checks that a malformed format is refused with
// an error naming it, as Python's %-formatting would fail on it.
func TestParseTemplateErrors(t *testing.T) {
	for _, s := range []string{"%", "50% off", "%(h)", "%(h", "%(h)x", "%s"} {
		_, err := ParseTemplate(s)
		if err == nil || !strings.Contains(err.Error(), strconv.Quote(s)) {
			t.Errorf("ParseTemplate(%q): %v; want an error naming it", s, err)
		}
	}
	if tp, err := ParseTemplate(""); err != nil || tp.String() != "" {
		t.Errorf("ParseTemplate(\"\"): %v", err)
	}
}

// TestTemplateOverFormat checks that a Template, when set, writes the
// lines even with Format Off.
func TestTemplateOverFormat(t *testing.T) {
	tp, _ := ParseTemplate("%(m)s %(U)s")
	var out bytes.Buffer
	New(Config{Format: Off, Template: tp, Output: &out}, http.NotFoundHandler()).
		ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", nil))
	if out.String() != "POST /x\n" {
		t.Errorf("got %q", out.String())
	}
}

// TestTemplateAllocs holds a line of gunicorn's default format, with
// durations and a header, to no allocation beyond its buffer: the
// template is parsed once.
func TestTemplateAllocs(t *testing.T) {
	tp, err := ParseTemplate(`%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(L)s %(D)s %({x-forwarded-for}i)s %({content-type}o)s`)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/a?b=1", nil)
	r.Header.Set("X-Forwarded-For", "192.0.2.1")
	rec := &Record{RemoteAddr: "192.0.2.1", Method: "GET", URI: "/a?b=1", Proto: "HTTP/1.1", Status: 200, Bytes: 12,
		UserAgent: "curl", Start: time.Now(), Duration: 1234 * time.Microsecond, request: r,
		respHeader: http.Header{"Content-Type": {"text/plain"}}}
	b := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { b = tp.Append(b[:0], rec) }); n > 0 {
		t.Errorf("Append allocated %v times per line; want 0", n)
	}
}
