package asgiws

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

var accept = Message{"type": "websocket.accept"}

// TestServeAccepted: after the handshake, messages both ways, close codes
// and reasons both ways, the app's end, each with what Serve returns.
func TestServeAccepted(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		app     func(a app)
		client  func(t *testing.T, c *websocket.Conn)
		wantErr error // errors.Is; nil: Serve returns nil
		appErr  bool  // Serve returns an *AppError
	}{
		{
			name: "echo, then the client closes with a code and reason",
			app: func(a app) {
				a.accept()
				a.expect(Message{"type": "websocket.receive", "text": "héllo"})
				a.send(Message{"type": "websocket.send", "text": "héllo back"})
				a.expect(Message{"type": "websocket.receive", "bytes": []byte{0, 1, 2}})
				a.send(Message{"type": "websocket.send", "bytes": []byte{3, 4}, "text": nil})
				a.expect(Message{"type": "websocket.disconnect", "code": 4000, "reason": "bye"})
				a.end(io.EOF)
			},
			client: func(t *testing.T, c *websocket.Conn) {
				ctx := testContext(t)
				must(t, c.Write(ctx, websocket.MessageText, []byte("héllo")))
				expectRead(t, c, websocket.MessageText, "héllo back")
				must(t, c.Write(ctx, websocket.MessageBinary, []byte{0, 1, 2}))
				expectRead(t, c, websocket.MessageBinary, "\x03\x04")
				must(t, c.Close(4000, "bye"))
			},
		},
		{
			name: "the client closes without a code: 1005",
			app: func(a app) {
				a.accept()
				a.expect(Message{"type": "websocket.disconnect", "code": 1005, "reason": ""})
				a.end(io.EOF)
			},
			client: func(t *testing.T, c *websocket.Conn) { c.Close(websocket.StatusNoStatusRcvd, "") },
		},
		{
			name: "the app closes with a code and reason, then hears the disconnect",
			app: func(a app) {
				a.accept()
				a.send(Message{"type": "websocket.close", "code": int64(4001), "reason": "done"})
				a.expect(Message{"type": "websocket.disconnect", "code": 4001, "reason": "done"})
				a.end(io.EOF)
			},
			client: expectClose(4001, "done"),
		},
		{
			name: "the app closes without a code: 1000",
			app: func(a app) {
				a.accept()
				a.send(Message{"type": "websocket.close"})
				a.expect(Message{"type": "websocket.disconnect", "code": 1000})
				a.end(io.EOF)
			},
			client: expectClose(websocket.StatusNormalClosure, ""),
		},
		{
			name: "the app returns without closing: 1000",
			app: func(a app) {
				a.accept()
				a.end(io.EOF)
			},
			client: expectClose(websocket.StatusNormalClosure, ""),
		},
		{
			name: "the app raises after accepting: 1011",
			app: func(a app) {
				a.accept()
				a.end(&AppError{Traceback: "ZeroDivisionError"})
			},
			client: expectClose(websocket.StatusInternalError, ""),
			appErr: true,
		},
		{
			name: "a send with both text and bytes: 1011, and what the app sends then is dropped",
			app: func(a app) {
				a.accept()
				a.send(Message{"type": "websocket.send", "text": "x", "bytes": []byte("y")})
				a.send(Message{"type": "websocket.send", "text": "dropped"})
				a.expect(Message{"type": "websocket.disconnect", "code": 1011})
				a.end(io.EOF)
			},
			client:  expectClose(websocket.StatusInternalError, ""),
			wantErr: ErrBadMessage,
		},
		{
			name: "a second accept: 1011",
			app: func(a app) {
				a.accept()
				a.send(accept)
				a.expect(Message{"type": "websocket.disconnect", "code": 1011})
				a.end(io.EOF)
			},
			client:  expectClose(websocket.StatusInternalError, ""),
			wantErr: ErrBadMessage,
		},
		{
			name: "a close code no frame may carry: 1011",
			app: func(a app) {
				a.accept()
				a.send(Message{"type": "websocket.close", "code": 1006})
				a.expect(Message{"type": "websocket.disconnect", "code": 1011})
				a.end(io.EOF)
			},
			client:  expectClose(websocket.StatusInternalError, ""),
			wantErr: ErrBadMessage,
		},
		{
			name: "a message over MaxMessage: 1009 both ways",
			opts: Options{MaxMessage: 10},
			app: func(a app) {
				a.accept()
				a.expect(Message{"type": "websocket.receive", "bytes": []byte("0123456789")})
				a.expect(Message{"type": "websocket.disconnect", "code": 1009})
				a.end(io.EOF)
			},
			client: func(t *testing.T, c *websocket.Conn) {
				ctx := testContext(t)
				must(t, c.Write(ctx, websocket.MessageBinary, []byte("0123456789")))
				must(t, c.Write(ctx, websocket.MessageBinary, []byte("0123456789a")))
				expectClose(websocket.StatusMessageTooBig, "read limited at 11 bytes")(t, c)
			},
		},
		{
			name: "text that is not UTF-8: 1007",
			app: func(a app) {
				a.accept()
				a.expect(Message{"type": "websocket.disconnect", "code": 1007})
				a.end(io.EOF)
			},
			client: func(t *testing.T, c *websocket.Conn) {
				must(t, c.Write(testContext(t), websocket.MessageText, []byte{'a', 0xff}))
				expectClose(websocket.StatusInvalidFramePayloadData, "text message is not UTF-8")(t, c)
			},
		},
		{
			name: "the client goes without a close frame: 1006, and the app's sends are dropped",
			app: func(a app) {
				a.accept()
				a.expect(Message{"type": "websocket.disconnect", "code": 1006})
				a.send(Message{"type": "websocket.send", "text": "too late"})
				a.end(io.EOF)
			},
			client: func(t *testing.T, c *websocket.Conn) { c.CloseNow() },
		},
		{
			name: "a fragmented message reaches the app whole",
			app: func(a app) {
				a.accept()
				a.expect(Message{"type": "websocket.receive", "text": "one two three"})
				a.expect(Message{"type": "websocket.disconnect", "code": 1000})
				a.end(io.EOF)
			},
			client: func(t *testing.T, c *websocket.Conn) {
				w, err := c.Writer(testContext(t), websocket.MessageText)
				must(t, err)
				for _, part := range []string{"one ", "two ", "three"} {
					_, err := w.Write([]byte(part))
					must(t, err)
				}
				must(t, w.Close())
				must(t, c.Close(websocket.StatusNormalClosure, ""))
			},
		},
	}
	modes(t, func(t *testing.T, m mode) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				opts := tt.opts
				srv, results := m.server(t, opts, tt.app)
				c, resp, err := websocket.Dial(testContext(t), wsURL(srv, "/ws"), nil)
				if err != nil {
					t.Fatalf("Dial: %v (response %v)", err, resp)
				}
				defer c.CloseNow()
				tt.client(t, c)
				res := result(t, results)
				checkServed(t, res.err, tt.appErr, tt.wantErr)
				if res.failStatus != 0 {
					t.Errorf("Fail called after the handshake: %d %v", res.failStatus, res.failErr)
				}
			})
		}
	})
}

// TestServeHandshake: what the client gets when the app answers
// websocket.connect otherwise than with a plain accept.
func TestServeHandshake(t *testing.T) {
	tests := []struct {
		name       string
		app        func(a app)
		dial       *websocket.DialOptions
		wantStatus int    // the HTTP response, 101 if accepted
		wantHeader string // "Name: value" the response must have
		wantBody   string
		wantSub    string // the subprotocol chosen
		wantFail   int    // the status Fail was given, 0 if not called
		wantErr    error
		appErr     bool
	}{
		{
			name: "accept with a subprotocol and headers",
			app: func(a app) {
				a.expect(Message{"type": "websocket.connect"})
				a.send(Message{"type": "websocket.accept", "subprotocol": "chat.v2",
					"headers": []any{[]any{[]byte("x-app"), []byte("1")}, [2][]byte{[]byte("set-cookie"), []byte("a=b")}}})
				a.expect(Message{"type": "websocket.disconnect", "code": 1000})
				a.end(io.EOF)
			},
			dial:       &websocket.DialOptions{Subprotocols: []string{"chat.v1", "chat.v2"}},
			wantStatus: http.StatusSwitchingProtocols,
			wantHeader: "Set-Cookie: a=b",
			wantSub:    "chat.v2",
		},
		{
			name: "permessage-deflate when the client offers it",
			app: func(a app) {
				a.accept()
				a.expect(Message{"type": "websocket.disconnect", "code": 1000})
				a.end(io.EOF)
			},
			dial:       &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover},
			wantStatus: http.StatusSwitchingProtocols,
			wantHeader: "Sec-Websocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover",
		},
		{
			name: "close before accept: 403",
			app: func(a app) {
				a.expect(Message{"type": "websocket.connect"})
				a.send(Message{"type": "websocket.close", "code": 1008})
				a.expect(Message{"type": "websocket.disconnect", "code": 1006})
				a.end(io.EOF)
			},
			wantStatus: http.StatusForbidden,
		},
		{
			name: "a denial response in two bodies",
			app: func(a app) {
				a.expect(Message{"type": "websocket.connect"})
				a.send(Message{"type": "websocket.http.response.start", "status": int64(401),
					"headers": []any{[]any{[]byte("www-authenticate"), []byte("Bearer")}}})
				a.send(Message{"type": "websocket.http.response.body", "body": []byte("log in "), "more_body": true})
				a.send(Message{"type": "websocket.http.response.body", "body": []byte("first")})
				a.expect(Message{"type": "websocket.disconnect", "code": 1006})
				a.end(io.EOF)
			},
			wantStatus: http.StatusUnauthorized,
			wantHeader: "Www-Authenticate: Bearer",
			wantBody:   "log in first",
		},
		{
			name: "the app raises before accepting: 500",
			app: func(a app) {
				a.expect(Message{"type": "websocket.connect"})
				a.end(&AppError{Traceback: "KeyError"})
			},
			wantStatus: http.StatusInternalServerError,
			wantFail:   http.StatusInternalServerError,
			appErr:     true,
		},
		{
			name: "the app returns before accepting: 500",
			app: func(a app) {
				a.expect(Message{"type": "websocket.connect"})
				a.end(io.EOF)
			},
			wantStatus: http.StatusInternalServerError,
			wantFail:   http.StatusInternalServerError,
			wantErr:    ErrNoResponse,
		},
		{
			name: "the stream is lost before accepting: 502",
			app: func(a app) {
				a.expect(Message{"type": "websocket.connect"})
				a.end(errStreamEnded)
			},
			wantStatus: http.StatusBadGateway,
			wantFail:   http.StatusBadGateway,
			wantErr:    errStreamEnded,
		},
		{
			name: "accept with a sec-websocket-protocol header: 500",
			app: func(a app) {
				a.expect(Message{"type": "websocket.connect"})
				a.send(Message{"type": "websocket.accept", "headers": []any{[]any{[]byte("sec-websocket-protocol"), []byte("x")}}})
				a.expect(Message{"type": "websocket.disconnect", "code": 1006})
				a.end(io.EOF)
			},
			wantStatus: http.StatusInternalServerError,
			wantFail:   http.StatusInternalServerError,
			wantErr:    ErrBadMessage,
		},
		{
			name: "a send before accept: 500",
			app: func(a app) {
				a.expect(Message{"type": "websocket.connect"})
				a.send(Message{"type": "websocket.send", "text": "early"})
				a.expect(Message{"type": "websocket.disconnect", "code": 1006})
				a.end(io.EOF)
			},
			wantStatus: http.StatusInternalServerError,
			wantFail:   http.StatusInternalServerError,
			wantErr:    ErrBadMessage,
		},
		{
			name: "a denial response with a header that splits the response: 500",
			app: func(a app) {
				a.expect(Message{"type": "websocket.connect"})
				a.send(Message{"type": "websocket.http.response.start", "status": 400,
					"headers": []any{[]any{[]byte("x"), []byte("a\r\nb: c")}}})
				a.expect(Message{"type": "websocket.disconnect", "code": 1006})
				a.end(io.EOF)
			},
			wantStatus: http.StatusInternalServerError,
			wantFail:   http.StatusInternalServerError,
			wantErr:    ErrBadMessage,
		},
	}
	modes(t, func(t *testing.T, m mode) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				srv, results := m.server(t, Options{Compression: true}, tt.app)
				c, resp, err := websocket.Dial(testContext(t), wsURL(srv, "/ws"), tt.dial)
				if resp == nil {
					t.Fatalf("Dial: no response: %v", err)
				}
				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tt.wantStatus, err)
				}
				if c != nil {
					if got := c.Subprotocol(); got != tt.wantSub {
						t.Errorf("subprotocol %q, want %q", got, tt.wantSub)
					}
					must(t, c.Close(websocket.StatusNormalClosure, ""))
				}
				if tt.wantHeader != "" {
					name, value, _ := strings.Cut(tt.wantHeader, ": ")
					if got := resp.Header.Values(name); !contains(got, value) {
						t.Errorf("header %s: %q, want %q", name, got, value)
					}
				}
				if tt.wantBody != "" {
					// coder/websocket keeps the first bytes of a refused
					// handshake's body.
					body, _ := io.ReadAll(resp.Body)
					if !bytes.Contains(body, []byte(tt.wantBody)) {
						t.Errorf("body %q, want %q", body, tt.wantBody)
					}
				}
				res := result(t, results)
				if res.failStatus != tt.wantFail {
					t.Errorf("Fail given %d (%v), want %d", res.failStatus, res.failErr, tt.wantFail)
				}
				checkServed(t, res.err, tt.appErr, tt.wantErr)
			})
		}
	})
}

// checkServed checks what Serve returned: an *AppError if appErr, else an
// error that is wantErr (errors.Is), else nil.
func checkServed(t *testing.T, err error, appErr bool, wantErr error) {
	t.Helper()
	var ae *AppError
	switch {
	case appErr:
		if !errors.As(err, &ae) {
			t.Errorf("Serve returned %v, want an *AppError", err)
		}
	case wantErr != nil:
		if !errors.Is(err, wantErr) {
			t.Errorf("Serve returned %v, want %v", err, wantErr)
		}
	case err != nil:
		t.Errorf("Serve returned %v, want nil", err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func expectRead(t *testing.T, c *websocket.Conn, typ websocket.MessageType, want string) {
	t.Helper()
	gotTyp, got, err := c.Read(testContext(t))
	if err != nil || gotTyp != typ || string(got) != want {
		t.Errorf("client read %v %q, %v; want %v %q", gotTyp, got, err, typ, want)
	}
}

// expectClose reads until the server's close frame and checks its code and
// reason.
func expectClose(code websocket.StatusCode, reason string) func(t *testing.T, c *websocket.Conn) {
	return func(t *testing.T, c *websocket.Conn) {
		t.Helper()
		_, _, err := c.Read(testContext(t))
		var ce websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code || ce.Reason != reason {
			t.Errorf("client read error %v, want a close %d %q", err, code, reason)
		}
	}
}

// TestServeDenialCut: an app that returns in the middle of its denial
// response gets the connection cut, so that the client cannot take the
// truncated body for a whole one.
func TestServeDenialCut(t *testing.T) {
	srv, _ := newServer(t, Options{}, func(a app) {
		a.expect(Message{"type": "websocket.connect"})
		a.send(Message{"type": "websocket.http.response.start", "status": 400,
			"headers": []any{[]any{[]byte("content-length"), []byte("100")}}})
		a.send(Message{"type": "websocket.http.response.body", "body": []byte("half"), "more_body": true})
		a.end(io.EOF)
	})
	req, err := http.NewRequestWithContext(testContext(t), "GET", srv.URL+"/ws", nil)
	must(t, err)
	for k, v := range map[string]string{"Connection": "Upgrade", "Upgrade": "websocket",
		"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="} {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || string(body) != "half" || err == nil {
		t.Errorf("got %d %q, %v; want 400 %q cut short (an error)", resp.StatusCode, body, err, "half")
	}
}

// TestServeStop: Options.Stop closes an idle socket with 1012 and tells the
// app, which then ends.
func TestServeStop(t *testing.T) {
	modes(t, func(t *testing.T, m mode) {
		stop, cancel := context.WithCancel(context.Background())
		defer cancel()
		opts := Options{Stop: stop}
		accepted := make(chan struct{})
		srv, results := m.server(t, opts, func(a app) {
			a.accept()
			close(accepted)
			a.expect(Message{"type": "websocket.disconnect", "code": 1012, "reason": "server restart"})
			a.end(io.EOF)
		})
		c, _, err := websocket.Dial(testContext(t), wsURL(srv, "/ws"), nil)
		must(t, err)
		defer c.CloseNow()
		<-accepted
		cancel()
		expectClose(websocket.StatusServiceRestart, "server restart")(t, c)
		if res := result(t, results); res.err != nil {
			t.Errorf("Serve returned %v", res.err)
		}
	})
}

// TestCreditBatched: an app that sends 2 MiB in 1 KiB messages, through a
// window of 256 KiB, is credited in batches, never left waiting.
func TestCreditBatched(t *testing.T) {
	modes(t, func(t *testing.T, m mode) {
		const total, size = 2 << 20, 1 << 10
		credits := make(chan int64, 1)
		srv, results := m.server(t, Options{}, func(a app) {
			a.accept()
			chunk := []byte(strings.Repeat("x", size))
			for range total / size {
				a.send(Message{"type": "websocket.send", "bytes": chunk})
			}
			a.send(Message{"type": "websocket.close"})
			a.expect(Message{"type": "websocket.disconnect", "code": 1000})
			credits <- a.s.credits.Load()
			a.end(io.EOF)
		})
		c, _, err := websocket.Dial(testContext(t), wsURL(srv, "/ws"), nil)
		must(t, err)
		defer c.CloseNow()
		got := 0
		for {
			_, p, err := c.Read(testContext(t))
			if err != nil {
				break
			}
			got += len(p)
		}
		if got != total {
			t.Errorf("client read %d bytes, want %d", got, total)
		}
		if n := <-credits; n > total/creditBatch {
			t.Errorf("%d Consumed calls for %d bytes, want at most %d", n, total, total/creditBatch)
		}
		if res := result(t, results); res.err != nil {
			t.Errorf("Serve returned %v", res.err)
		}
	})
}

// TestPingUnanswered: a client that answers no ping (a raw connection that
// never reads) is closed as broken, and the app hears 1006. The interval is
// short so that the test is; nothing is timed.
func TestPingUnanswered(t *testing.T) {
	modes(t, func(t *testing.T, m mode) {
		srv, results := m.server(t, Options{PingInterval: 20 * time.Millisecond}, func(a app) {
			a.accept()
			a.expect(Message{"type": "websocket.disconnect", "code": 1006})
			a.end(io.EOF)
		})
		c, err := openIdle(srv.Listener.Addr().String())
		must(t, err)
		defer c.Close()
		if res := result(t, results); res.err != nil {
			t.Errorf("Serve returned %v", res.err)
		}
	})
}

// TestServeFramesBeforeAccept: frames that a client sends right after its
// handshake request, in the same write, before it has seen the 101, reach
// the app once it accepts, in every mode (with Buffers, they are the first
// bytes of the lent reads).
func TestServeFramesBeforeAccept(t *testing.T) {
	modes(t, func(t *testing.T, m mode) {
		srv, results := m.server(t, Options{}, func(a app) {
			a.accept()
			a.expect(Message{"type": "websocket.receive", "text": "early"})
			a.expect(Message{"type": "websocket.receive", "text": "bird"})
			a.send(Message{"type": "websocket.send", "text": "worm"})
			a.expect(Message{"type": "websocket.disconnect", "code": 1000})
			a.end(io.EOF)
		})
		c, err := net.DialTimeout("tcp", srv.Listener.Addr().String(), testTimeout)
		must(t, err)
		defer c.Close()
		c.SetDeadline(time.Now().Add(testTimeout))
		frame := func(op byte, payload string) []byte {
			// Masked, as a client's must be; a zero key leaves it as is.
			return append([]byte{0x80 | op, 0x80 | byte(len(payload)), 0, 0, 0, 0}, payload...)
		}
		req := "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
		out := append([]byte(req), frame(1, "early")...)
		out = append(out, frame(1, "bird")...)
		_, err = c.Write(out)
		must(t, err)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		must(t, err)
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("handshake answered %s", resp.Status)
		}
		got := make([]byte, 6)
		_, err = io.ReadFull(br, got)
		must(t, err)
		if want := "\x81\x04worm"; string(got) != want {
			t.Fatalf("client read %q, want %q", got, want)
		}
		_, err = c.Write(frame(8, "\x03\xe8"))
		must(t, err)
		checkServed(t, result(t, results).err, false, nil)
	})
}

// TestPingAnswered: a quiet client that answers the pings keeps its
// connection, the app hears nothing of the pings (with Buffers, nothing of
// the frames lendingConn makes up past each pong either), and its next
// messages come whole. With Buffers the reader then waits in waitIdle, not
// in coder/websocket's readLoop: on a 2 KiB stack.
func TestPingAnswered(t *testing.T) {
	modes(t, func(t *testing.T, m mode) {
		srv, results := m.server(t, Options{PingInterval: 5 * time.Millisecond}, func(a app) {
			a.accept()
			a.expect(Message{"type": "websocket.receive", "text": "still here"})
			a.expect(Message{"type": "websocket.receive", "bytes": []byte("and here")})
			a.send(Message{"type": "websocket.send", "text": "good"})
			a.expect(Message{"type": "websocket.disconnect", "code": 1000})
			a.end(io.EOF)
		})
		pings := make(chan struct{}, 16)
		ctx := testContext(t)
		c, _, err := websocket.Dial(ctx, wsURL(srv, "/ws"), &websocket.DialOptions{
			OnPingReceived: func(context.Context, []byte) bool {
				select {
				case pings <- struct{}{}:
				default:
				}
				return true // answer it
			},
		})
		must(t, err)
		defer c.CloseNow()
		got := make(chan string, 1)
		go func() {
			// The client's reader: it answers the pings while it waits.
			_, b, err := c.Read(ctx)
			got <- fmt.Sprintf("%s %v", b, err)
		}()
		// The third ping comes once the server has read two pongs.
		for range 3 {
			select {
			case <-pings:
			case <-ctx.Done():
				t.Fatal("no pings")
			}
		}
		if m.poll {
			for !readerIdle() {
				if ctx.Err() != nil {
					t.Fatal("the reader does not wait in waitIdle after the pongs")
				}
				runtime.Gosched()
			}
		}
		must(t, c.Write(ctx, websocket.MessageText, []byte("still here")))
		must(t, c.Write(ctx, websocket.MessageBinary, []byte("and here")))
		if g := <-got; g != "good <nil>" {
			t.Fatalf("client read %s, want good", g)
		}
		must(t, c.Close(websocket.StatusNormalClosure, ""))
		checkServed(t, result(t, results).err, false, nil)
	})
}

// readerIdle reports whether a goroutine waits in lendingConn.waitIdle and
// none in coder/websocket's Reader over a lendingConn (the connections of
// other modes, or of other tests, wait there as they should).
func readerIdle() bool {
	buf := make([]byte, 1<<20)
	dump := string(buf[:runtime.Stack(buf, true)])
	idle, deep := false, false
	for _, g := range strings.Split(dump, "\n\n") {
		switch {
		case strings.Contains(g, "asgiws.(*lendingConn).waitIdle"):
			idle = true
		case strings.Contains(g, "websocket.(*Conn).readLoop") && strings.Contains(g, "asgiws.(*lendingConn).Read"):
			deep = true
		}
	}
	return idle && !deep
}
