package hostile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A hostileCase is one file of testdata/requests: a raw request and what
// the server must do with it.
//
// The file starts with "#" lines: free text saying why, and "key: value"
// lines for the outcome:
//
//	status: 400   the status code of the one response (required)
//	close: yes    the server must close the connection after it; with "no"
//	              it must serve a next request on the same connection
//	app: 0        how many requests reach the app (default 0)
//
// Whatever the case, no request or header named "smuggled" may reach the
// app.
//
// The rest is the request, with its line breaks ignored, so that each CR
// and LF is written out: \r, \n, \t, \0, \xHH and \\ are escapes, and
// {repeat N TEXT} stands for TEXT N times (TEXT, escapes and all, without
// "}").
type hostileCase struct {
	name    string
	why     string
	status  int
	close   bool
	app     int
	request []byte
}

func loadCases(t *testing.T) []hostileCase {
	t.Helper()
	files, err := filepath.Glob("testdata/requests/*.http")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/requests/*.http: %v", err)
	}
	var cases []hostileCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseCase(string(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c.name = strings.TrimSuffix(filepath.Base(f), ".http")
		cases = append(cases, c)
	}
	return cases
}

func parseCase(text string) (hostileCase, error) {
	var c hostileCase
	var req strings.Builder
	seen := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "#"); ok && req.Len() == 0 {
			rest = strings.TrimSpace(rest)
			k, v, _ := strings.Cut(rest, ":")
			switch k {
			case "status", "close", "app":
				seen[k] = true
				v = strings.TrimSpace(v)
				var err error
				switch k {
				case "status":
					c.status, err = strconv.Atoi(v)
				case "close":
					c.close, err = strconv.ParseBool(map[string]string{"yes": "true", "no": "false"}[v])
				case "app":
					c.app, err = strconv.Atoi(v)
				}
				if err != nil {
					return c, fmt.Errorf("%s: %q: %v", k, v, err)
				}
			default:
				c.why += rest + " "
			}
			continue
		}
		req.WriteString(line)
	}
	if !seen["status"] || !seen["close"] {
		return c, errors.New("needs status: and close: lines")
	}
	var err error
	c.request, err = unescapeRequest(req.String())
	return c, err
}

// unescapeRequest decodes the escapes and {repeat N TEXT} of a case.
func unescapeRequest(s string) ([]byte, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 == len(s) {
				return nil, errors.New("trailing backslash")
			}
			i++
			switch s[i] {
			case 'r':
				b = append(b, '\r')
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case '0':
				b = append(b, 0)
			case '\\', '{':
				b = append(b, s[i])
			case 'x':
				if i+2 >= len(s) {
					return nil, errors.New(`short \x`)
				}
				v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
				if err != nil {
					return nil, err
				}
				b = append(b, byte(v))
				i += 2
			default:
				return nil, fmt.Errorf("unknown escape \\%c", s[i])
			}
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, errors.New("unclosed {")
			}
			count, text, ok := strings.Cut(strings.TrimPrefix(s[i+1:i+end], "repeat "), " ")
			n, err := strconv.Atoi(count)
			if !ok || err != nil || !strings.HasPrefix(s[i:], "{repeat ") {
				return nil, fmt.Errorf("%q: want {repeat N TEXT}", s[i:i+end+1])
			}
			unit, err := unescapeRequest(text)
			if err != nil {
				return nil, err
			}
			b = append(b, bytes.Repeat(unit, n)...)
			i += end
		default:
			b = append(b, s[i])
		}
	}
	return b, nil
}

// corpusLimits are the server's limits the corpus is written against.
var corpusLimits = []string{"--limit-request-body", "1024", "--limit-request-fields-size", "8192"}

// TestHostileRequests sends every request of testdata/requests over raw
// TCP to the real server and checks the status, whether the connection is
// closed, and that the app saw exactly what it should: an invalid request
// never reaches it, and nothing named "smuggled" ever does.
func TestHostileRequests(t *testing.T) {
	runCorpus(t, "app:app", "--threads", "2")
}

// TestHostileRequestsASGI: the same corpus, the same answers, for an ASGI
// app (testdata/asgiapp.py, which records as app.py does, as each scope
// arrives): a broken or too large chunked body never opens a stream.
func TestHostileRequestsASGI(t *testing.T) {
	runCorpus(t, "asgiapp:app", "--interface", "asgi")
}

// runCorpus sends the corpus to app served by one worker with args.
func runCorpus(t *testing.T, app string, args ...string) {
	cases := loadCases(t)
	record := filepath.Join(t.TempDir(), "record")
	_, addr := serveApp(t, app, []string{"RECORD_FILE=" + record},
		append(append([]string{"--workers", "1"}, args...), corpusLimits...)...)
	seen := 0 // lines of the record file already accounted for
	readRecord := func() []string {
		b, _ := os.ReadFile(record)
		return strings.SplitAfter(string(b), "\n")[:strings.Count(string(b), "\n")]
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", addr, timeout)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(timeout))
			if _, err := conn.Write(c.request); err != nil {
				t.Fatalf("writing the request: %v", err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("%s\nno response: %v", c.why, err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("%s\ngot %s %q; want %d", c.why, resp.Status, body, c.status)
			}
			if c.close {
				// The server must close: nothing more may come, EOF must.
				conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				n, err := br.Read(make([]byte, 1))
				if n > 0 || !errors.Is(err, io.EOF) && !isReset(err) {
					t.Errorf("%s\nconnection not closed after the response: read %d bytes, %v", c.why, n, err)
				}
			} else {
				// The connection must serve a next request, and only that.
				// Responses to pipelined requests of the case come first.
				after := "/after/" + c.name
				fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", after)
				for i := 0; ; i++ {
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						t.Fatalf("%s\nno response to a next request on the connection: %v", c.why, err)
					}
					io.Copy(io.Discard, resp.Body)
					if p := resp.Header.Get("X-Path"); p == after || i == 4 {
						if resp.StatusCode != 200 || p != after {
							t.Errorf("next request on the connection: %s from %q", resp.Status, p)
						}
						break
					}
				}
			}
			// The app records before it answers, so its lines are there.
			lines := readRecord()
			got := lines[seen:]
			seen = len(lines)
			if !c.close {
				if len(got) == 0 || !strings.Contains(got[len(got)-1], "/after/"+c.name) {
					t.Errorf("the app did not record the next request; it has %q", got)
				} else {
					got = got[:len(got)-1]
				}
			}
			if len(got) != c.app {
				t.Errorf("%s\nthe app got %d requests, want %d: %q", c.why, len(got), c.app, got)
			}
			for _, l := range got {
				if strings.Contains(strings.ToLower(l), "smuggled") {
					t.Errorf("a smuggled request reached the app: %q", l)
				}
			}
		})
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && strings.Contains(op.Err.Error(), "reset")
}

// TestSlowHeaders: a client that sends its headers a byte at a time is cut
// once --header-timeout has passed, without a response (net/http closes
// the connection), and the app never sees it.
func TestSlowHeaders(t *testing.T) {
	record := filepath.Join(t.TempDir(), "record")
	_, addr := serveApp(t, "app:app", []string{"RECORD_FILE=" + record}, "--workers", "1", "--header-timeout", "1s")
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET /slow-headers HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 100) + "\r\n\r\n"
	start := time.Now()
	var werr error
	for i := 0; i < len(req) && werr == nil; i++ {
		_, werr = conn.Write([]byte{req[i]})
		time.Sleep(50 * time.Millisecond)
	}
	cut := time.Since(start)
	if werr == nil {
		t.Fatalf("the server read the whole request, trickled over %v, past --header-timeout 1s", cut)
	}
	if cut > 5*time.Second {
		t.Errorf("cut after %v; want about 1s", cut)
	}
	if b, _ := os.ReadFile(record); len(b) > 0 {
		t.Errorf("the app saw the slow request: %q", b)
	}
	t.Logf("cut after %v: %v", cut.Round(10*time.Millisecond), werr)
}
