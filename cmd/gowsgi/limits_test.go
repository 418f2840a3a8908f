package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLimitRequest checks gunicorn's request limits at their edges, with
// the requests as net/http parses them.
func TestLimitRequest(t *testing.T) {
	defaults := gunicornOptions{limitRequestLine: 4094, limitRequestFields: 100, limitRequestFieldSize: 8190}
	none := gunicornOptions{}
	fields := func(n int) http.Header {
		h := make(http.Header)
		for i := range n {
			h.Set(fmt.Sprintf("X-%d", i), "v")
		}
		return h
	}
	// "GET " + target + " HTTP/1.1" is 13 bytes more than the target.
	cases := []struct {
		name   string
		limits gunicornOptions
		target string
		header http.Header // with Host, one field more
		code   int
	}{
		{"line at the limit", defaults, "/" + strings.Repeat("a", 4094-13-1), nil, 200},
		{"line over", defaults, "/" + strings.Repeat("a", 4094-13), nil, 414},
		{"line, no limit", none, "/" + strings.Repeat("a", 10000), nil, 200},
		{"fields at the limit", defaults, "/", fields(99), 200},
		{"fields over", defaults, "/", fields(100), 431},
		{"fields, no limit", none, "/", fields(1000), 200},
		{"field at the limit", defaults, "/", http.Header{"X-Big": {strings.Repeat("x", 8190-len("X-Big: "))}}, 200},
		{"field over", defaults, "/", http.Header{"X-Big": {strings.Repeat("x", 8190-len("X-Big: ")+1)}}, 431},
		{"repeated field counts each", gunicornOptions{limitRequestFields: 3}, "/", http.Header{"A": {"1", "2", "3"}}, 431},
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, tc := range cases {
		h := limitRequest(ok, &tc.limits)
		r := httptest.NewRequest("GET", tc.target, nil)
		for k, vs := range tc.header {
			r.Header[k] = vs
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.code {
			t.Errorf("%s: %d %q; want %d", tc.name, w.Code, w.Body.String(), tc.code)
		}
	}
}

// TestLimitRequestFlags sends requests over each limit flag to a server,
// byte for byte, and checks what the client gets.
func TestLimitRequestFlags(t *testing.T) {
	needPython(t)
	cases := []struct {
		name string
		args []string
		head string // after the request line, before the blank line
		path int    // the length of the target
		code int
	}{
		{"default line ok", nil, "", 4094 - 13, 200},
		{"default line over", nil, "", 4094 - 12, 414},
		{"--limit-request-line", []string{"--limit-request-line", "100"}, "", 88, 414},
		{"--limit-request-line 0", []string{"--limit-request-line", "0"}, "", 20000, 200},
		{"default fields ok", nil, strings.Repeat("X: y\r\n", 99), 1, 200},
		{"default fields over", nil, strings.Repeat("X: y\r\n", 100), 1, 431},
		{"--limit-request-fields", []string{"--limit-request-fields", "5"}, strings.Repeat("X: y\r\n", 5), 1, 431},
		{"default field size over", nil, "X: " + strings.Repeat("y", 8190-2) + "\r\n", 1, 431},
		{"--limit-request-field_size", []string{"--limit-request-field_size", "20"}, "X: " + strings.Repeat("y", 18) + "\r\n", 1, 431},
		{"--limit-request-field-size", []string{"--limit-request-field-size=20"}, "X: " + strings.Repeat("y", 17) + "\r\n", 1, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"serve", "--bind", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata", "-w", "1"}
			c := startCLI(t, nil, append(append(args, tc.args...), "apps:hello")...)
			target := "/" + strings.Repeat("a", tc.path-1)
			req := "GET " + target + " HTTP/1.1\r\nHost: h\r\n" + tc.head + "\r\n"
			if code := rawStatus(t, c.Addr(), req); code != tc.code {
				t.Errorf("got %d; want %d", code, tc.code)
			}
		})
	}
}

// rawStatus sends req on a new connection to addr and returns the status
// code of the response.
func rawStatus(t *testing.T, addr, req string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
