package examples

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHello runs the README's command (with a free port) under the Python
// first in PATH, and under Debian's.
func TestHello(t *testing.T) {
	for _, python := range []string{"", debianPython} {
		t.Run("python="+python, func(t *testing.T) {
			t.Parallel()
			args := []string{"serve", "--chdir", "examples/hello", "hello:simple_app", "--bind", "127.0.0.1:0", "-w", "1"}
			if python != "" {
				args = append(args, "--python", python)
			}
			p := start(t, gowsgiBin, args...)
			r := do(t, nil, "GET", "http://"+p.Addr()+"/", nil)
			if r.code != 200 || r.body != "Hello world!\n" || r.header.Get("Content-Type") != "text/plain" {
				t.Errorf("GET /: %d %q %q; want 200 text/plain %q", r.code, r.header.Get("Content-Type"), r.body, "Hello world!\n")
			}
			p.Stop()
		})
	}
}

func TestFlask(t *testing.T) {
	needModule(t, "flask")
	for _, prefix := range []string{"", "/flask"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			t.Parallel()
			p := start(t, gowsgiBin, "serve", "--bind", "127.0.0.1:0", "--python", debianPython,
				"--chdir", "examples/flask", "--workers", "2", "--prefix", prefix, "app:app")
			base := "http://" + p.Addr() + prefix

			r := do(t, nil, "GET", base+"/api/info", nil)
			var info struct {
				Framework    string `json:"framework"`
				Path         string `json:"path"`
				ScriptRoot   string `json:"script_root"`
				Multiprocess bool   `json:"multiprocess"`
			}
			if err := json.Unmarshal([]byte(r.body), &info); err != nil || r.code != 200 {
				t.Fatalf("GET /api/info: %d %q: %v", r.code, r.body, err)
			}
			if info.Framework != "flask" || info.Path != "/api/info" || info.ScriptRoot != prefix || !info.Multiprocess {
				t.Errorf("GET /api/info: %+v; want flask, /api/info, script root %q, multiprocess", info, prefix)
			}

			cases := []struct {
				method, path string
				form         url.Values
				code         int
				want         string
			}{
				{"GET", "/", nil, 200, `action="` + prefix + `/greet"`},
				{"POST", "/greet", url.Values{"name": {"Zoë <b>"}}, 200, "Hello, Zoë &lt;b&gt;!"},
				{"POST", "/greet", url.Values{"name": {""}}, 400, "name is required"},
				{"GET", "/greet", nil, 405, "Method Not Allowed"},
				{"GET", "/nowhere", nil, 404, "Not Found"},
			}
			for _, tc := range cases {
				r := do(t, nil, tc.method, base+tc.path, tc.form)
				if r.code != tc.code || !strings.Contains(r.body, tc.want) {
					t.Errorf("%s %s %v: %d %q; want %d and %q", tc.method, tc.path, tc.form, r.code, r.body, tc.code, tc.want)
				}
			}

			r = do(t, nil, "GET", base+"/old", nil)
			if loc := r.header.Get("Location"); r.code != 302 || !strings.HasSuffix(loc, prefix+"/") {
				t.Errorf("GET /old: %d Location %q; want 302 to %s/", r.code, loc, prefix)
			}
			r = do(t, http.DefaultClient, "GET", base+"/old", nil)
			if r.code != 200 || !strings.Contains(r.body, "Hello from Flask") {
				t.Errorf("GET /old, following the redirect: %d %q", r.code, r.body)
			}
			p.Stop()
		})
	}
}

func TestMixed(t *testing.T) {
	needModule(t, "django")
	t.Parallel()
	p := start(t, mixedBin, "-addr", "127.0.0.1:0", "-python", debianPython)
	base := "http://" + p.Addr()

	t.Run("go json", func(t *testing.T) {
		r := do(t, nil, "GET", base+"/api/time", nil)
		var v struct {
			Time     time.Time `json:"time"`
			ServedBy string    `json:"served_by"`
		}
		if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.code != 200 {
			t.Fatalf("GET /api/time: %d %q: %v", r.code, r.body, err)
		}
		if v.ServedBy != "go" || time.Since(v.Time).Abs() > time.Minute {
			t.Errorf("GET /api/time: %+v", v)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
	})

	t.Run("go events", func(t *testing.T) {
		const n = 3
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events?n=3", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("GET /events: %d %q", resp.StatusCode, ct)
		}
		// Each event must arrive when sent, not with the end of the stream.
		var got []string
		var first time.Time
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				if first.IsZero() {
					first = time.Now()
				}
				got = append(got, data)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if len(got) != n || !strings.HasPrefix(got[n-1], `{"n": 3,`) {
			t.Errorf("events %q; want %d, the last n=3", got, n)
		}
		if d := time.Since(first); d < 200*time.Millisecond {
			t.Errorf("the first event came %v before the end of the stream: not flushed as sent?", d)
		}
	})

	t.Run("django fallback", func(t *testing.T) {
		cases := []struct {
			path, host string
			code       int
			want       string
		}{
			{"/", "", 200, "<h1>Hello from Django</h1>"},
			{"/", "", 200, "on Python 3."},
			{"/nowhere/", "", 404, "Not Found"},
			{"/", "evil.example", 400, ""}, // not in ALLOWED_HOSTS
		}
		for _, tc := range cases {
			req, _ := http.NewRequest("GET", base+tc.path, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			resp, err := (&http.Client{Timeout: timeout}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			bufio.NewReader(resp.Body).WriteTo(&b)
			resp.Body.Close()
			if resp.StatusCode != tc.code || !strings.Contains(b.String(), tc.want) {
				t.Errorf("GET %s (Host %q): %d %q; want %d and %q", tc.path, tc.host, resp.StatusCode, b.String(), tc.code, tc.want)
			}
		}
	})

	p.Stop()
}
