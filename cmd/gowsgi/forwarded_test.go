package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
)

// TestForwardedCLI sends proxy headers through the real command to an app
// that echoes its environ: they set REMOTE_ADDR, wsgi.url_scheme,
// HTTP_HOST, SERVER_NAME and SERVER_PORT (X-Forwarded-Port) when the peer
// (127.0.0.1) is a trusted proxy, and change nothing when it is not.
func TestForwardedCLI(t *testing.T) {
	needPython(t)
	header := map[string]string{
		"X-Forwarded-For":   "203.0.113.5, 127.0.0.1",
		"X-Forwarded-Proto": "https",
		"X-Forwarded-Host":  "www.example.org",
		"X-Forwarded-Port":  "8443",
	}
	cases := []struct {
		name   string
		args   []string
		header map[string]string
		want   []string
		absent []string
	}{
		{"trusted by default", nil, header, []string{"REMOTE_ADDR=203.0.113.5\n", "wsgi.url_scheme=https\n",
			"HTTP_HOST=www.example.org:8443\n", "SERVER_NAME=www.example.org\n", "SERVER_PORT=8443\n",
			"HTTP_X_FORWARDED_FOR=203.0.113.5, 127.0.0.1\n"}, nil},
		{"rfc 7239", []string{"--forwarded-allow-ips", "127.0.0.0/8"},
			map[string]string{"Forwarded": `for="[2001:db8::7]:999";proto=https;host="shop.example:8443"`},
			[]string{"REMOTE_ADDR=2001:db8::7\n", "REMOTE_PORT=999\n", "wsgi.url_scheme=https\n",
				"HTTP_HOST=shop.example:8443\n", "SERVER_NAME=shop.example\n", "SERVER_PORT=8443\n"}, nil},
		{"untrusted", []string{"--forwarded-allow-ips", "10.0.0.1"}, header, []string{"REMOTE_ADDR=127.0.0.1\n",
			"wsgi.url_scheme=http\n", "SERVER_NAME=127.0.0.1\n", "HTTP_X_FORWARDED_HOST=www.example.org\n",
			"HTTP_X_FORWARDED_PORT=8443\n"}, []string{"SERVER_PORT=8443\n"}},
		{"nobody trusted", []string{"--forwarded-allow-ips", ""}, header, []string{"REMOTE_ADDR=127.0.0.1\n",
			"wsgi.url_scheme=http\n"}, []string{"SERVER_PORT=8443\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
				"-w", "1", "apps:environ"}, tc.args...)
			c := startCLI(t, nil, args...)
			addr := c.Addr()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range tc.want {
				if !strings.Contains(string(b), want) {
					t.Errorf("environ lacks %q:\n%s", want, b)
				}
			}
			for _, bad := range tc.absent {
				if strings.Contains(string(b), bad) {
					t.Errorf("environ has %q:\n%s", bad, b)
				}
			}
			c.Signal(syscall.SIGTERM)
			c.Wait()
		})
	}
}
