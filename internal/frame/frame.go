// Package frame is the codec of the channel between the Go server and a
// Python worker: for a WSGI worker one Unix stream socket per worker
// thread, carrying frames in both directions, one request at a time; for
// an ASGI worker one socket per process, many streams multiplexed on it.
//
// Every frame is a 5-byte header followed by its payload:
//
//	 0        1        2        3        4        5
//	+--------+--------+--------+--------+--------+----------------------+
//	|  type  |   payload length, uint32 little-endian |  payload ...    |
//	+--------+--------+--------+--------+--------+----------------------+
//
// Payloads of structured frames are values in Python's marshal format (see
// package marshal), so that the worker decodes and encodes them with one C
// call. A request and its response form one exchange:
//
//	Go → worker   Request   marshal (environ dict, body) where body is bytes
//	                        (held in memory) or str (path of a spooled file)
//	worker → Go   Start     marshal (status str, [(name str, value str), ...])
//	worker → Go   Data      raw body bytes; zero or more, each sent at once
//	worker → Go   File      marshal offset int: send the open file whose
//	                        descriptor rides along (SCM_RIGHTS), from
//	                        offset to its end or the Content-Length; the
//	                        worker does not wait, and may close its file
//	worker → Go   End       empty: the response is complete
//	worker → Go   Error     UTF-8 traceback: the app failed
//
// A File frame's descriptor leaves in the same sendmsg(2) as the frame, and
// the kernel hands it to the read that returns the first byte of that
// write, so Go, which reads the channel with recvmsg(2), has it by the time
// it parses the frame, and descriptors queue in the order of their frames.
// It shares its file position with the app's file object, which the app
// may go on using: Go sends from offset and never moves that position.
//
// Go may send Abort at any time during an exchange (the client went away, or
// the response was refused); the worker stops iterating, calls the
// iterable's close() and finishes with End or Error. An Abort that arrives
// after the exchange ended is ignored by the worker. Start always precedes
// the first Data or File; End or Error is the last frame of every exchange.
//
// Once, at start-up, the worker sends Ready (marshal dict with "pid",
// "version", "executable", "app" and "hooks", the worker hooks its config
// file defines) on its first socket after importing the app,
// or LoadError (UTF-8 traceback) and exits with status 4.
//
// An ASGI worker (bootstrap argument interface "asgi") has one channel and
// one event loop, and multiplexes streams on it, each an ASGI connection
// scope ("http" or "websocket"). stream is a positive int Go chooses, unique
// among the worker's open streams (reused only after that stream's Done).
// Messages are the ASGI message dicts themselves (str keys; bytes, str,
// int, bool, None, lists of [bytes, bytes] pairs):
//
//	Go → worker   Open      marshal (stream, scope dict, first): the worker
//	                        runs app(scope, receive, send) in a new task; Go
//	                        fills every spec key but "state" and "asgi";
//	                        first, a message dict or None, is the first
//	                        message receive() returns, as if a Message
//	                        frame had brought it (a request's first body
//	                        comes so, in the same frame: one decode); the
//	                        worker also takes (stream, scope)
//	both ways     Message   marshal (stream, message dict): Go's are what
//	                        the app's receive() returns (http.request,
//	                        http.disconnect, websocket.*), the worker's
//	                        what the app passed to send()
//	both ways     Credit    marshal (stream, n int): the receiver consumed
//	                        n more payload bytes of that stream
//	worker → Go   Done      marshal (stream, traceback str or None): the
//	                        app's coroutine ended; the stream's last frame
//	worker → Go   Head      marshal (stream, status int, headers, trailers
//	                        bool): an http.response.start message, checked
//	                        (headers a list of (bytes, bytes)), as a tuple
//	worker → Go   Piece     stream (int32 little-endian), more_body (one
//	                        byte, 0 or 1), then the body's raw bytes: an
//	                        http.response.body message
//
// Head and Piece are Messages in a form that costs the worker one small
// marshal.dumps, or none, instead of a dict's; Go reads them as the
// Message dicts they stand for. The worker sends its other messages as
// Message frames.
//
// A Credit for stream 0, which is never open, is Go's ping of a worker
// that has been quiet while streams are open: the worker's loop answers
// with the same frame, so that an idle loop is told from a blocked one.
//
// Flow control: per stream and direction, at most 256 KiB (Window) of
// payload bytes (the body of http.request and http.response.body, the
// bytes or text of websocket messages; other messages count 0) may be
// sent and not yet credited. Lifespan runs inside the worker, before
// Ready, whose info then also holds "interface", "loop" and "lifespan".
// On EOF (Go shut its write half) the worker takes no new streams, lets
// the open ones finish, runs lifespan shutdown and exits 0.
//
// With preload, a zygote process imports the app once (the same Ready or
// LoadError handshake, on its one socket, the control socket) and forks the
// workers. On the control socket:
//
//	Go → zygote   Fork      marshal int, the new worker's age (its
//	                        hooks' worker.age); its channel sockets, then
//	                        its stdout and stderr pipes, ride along as
//	                        SCM_RIGHTS descriptors.
//	                        One at a time: Go waits for Forked.
//	zygote → Go   Forked    marshal int, the child's pid, or str, why fork
//	                        failed; the child then sends Ready itself
//	zygote → Go   Reaped    marshal (pid int, status int): a child ended;
//	                        status is the raw wait status of waitpid(2)
package frame

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Type is the type of a frame, its first byte.
type Type byte

// Frame types. Each is a printable letter, so that a hex dump reads well.
const (
	Request   Type = 'R' // Go → worker: environ and body
	Abort     Type = 'A' // Go → worker: stop this response
	Ready     Type = 'Y' // worker → Go: the app is imported
	LoadError Type = 'L' // worker → Go: the app failed to import
	Start     Type = 'S' // worker → Go: status and headers
	Data      Type = 'D' // worker → Go: body bytes
	File      Type = 'F' // worker → Go: body from an open file
	End       Type = 'E' // worker → Go: response complete
	Error     Type = 'X' // worker → Go: the app raised
	Fork      Type = 'C' // Go → zygote: fork a worker with these fds
	Forked    Type = 'B' // zygote → Go: the child's pid
	Reaped    Type = 'Z' // zygote → Go: a child ended
	Open      Type = 'O' // Go → ASGI worker: a new stream and its scope
	Message   Type = 'M' // both ways: an ASGI message of a stream
	Credit    Type = 'K' // both ways: payload bytes of a stream consumed
	Done      Type = 'W' // ASGI worker → Go: a stream's app coroutine ended
	Head      Type = 'H' // ASGI worker → Go: a stream's http.response.start, compact
	Piece     Type = 'P' // ASGI worker → Go: a stream's http.response.body, raw
)

// Window is the flow-control window of an ASGI stream, per direction: the
// payload bytes that may be sent and not yet credited.
const Window = 256 << 10

func (t Type) String() string {
	switch t {
	case Request:
		return "Request"
	case Abort:
		return "Abort"
	case Ready:
		return "Ready"
	case LoadError:
		return "LoadError"
	case Start:
		return "Start"
	case Data:
		return "Data"
	case File:
		return "File"
	case End:
		return "End"
	case Error:
		return "Error"
	case Fork:
		return "Fork"
	case Forked:
		return "Forked"
	case Reaped:
		return "Reaped"
	case Open:
		return "Open"
	case Message:
		return "Message"
	case Credit:
		return "Credit"
	case Done:
		return "Done"
	case Head:
		return "Head"
	case Piece:
		return "Piece"
	}
	return fmt.Sprintf("Type(%#02x)", byte(t))
}

// HeaderLen is the size of a frame header.
const HeaderLen = 5

// MaxMeta bounds the payload of every frame but Data, which is streamed and
// never held whole: a worker that claims more is broken, and Go must not
// allocate what it claims.
const MaxMeta = 1 << 20

// AppendHeader appends the header of a frame of type t with an n-byte payload.
func AppendHeader(b []byte, t Type, n int) []byte {
	b = append(b, byte(t))
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// Reader reads frames from a worker.
type Reader struct {
	br *bufio.Reader
}

// NewReader returns a Reader that buffers size bytes of r.
func NewReader(r io.Reader, size int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, size)}
}

// Next reads the header of the next frame and returns its type and payload
// length. The caller must consume exactly that many bytes with Meta, Copy or
// Discard before calling Next again.
func (r *Reader) Next() (Type, int, error) {
	h, err := r.br.Peek(HeaderLen)
	if err != nil {
		if err == io.EOF && len(h) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return 0, 0, err
	}
	t := Type(h[0])
	n := binary.LittleEndian.Uint32(h[1:])
	r.br.Discard(HeaderLen)
	if n > 1<<31-1 {
		return t, 0, fmt.Errorf("frame: %v frame of %d bytes", t, n)
	}
	return t, int(n), nil
}

// Meta returns the n-byte payload of a structured frame. The slice is valid
// until the next call on r.
func (r *Reader) Meta(t Type, n int) ([]byte, error) {
	if n > MaxMeta {
		return nil, fmt.Errorf("frame: %v frame of %d bytes exceeds the %d-byte limit", t, n, MaxMeta)
	}
	if n <= r.br.Size() {
		p, err := r.br.Peek(n)
		if err != nil {
			return nil, unexpected(err)
		}
		r.br.Discard(n)
		return p, nil
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r.br, p); err != nil {
		return nil, unexpected(err)
	}
	return p, nil
}

// Copy copies an n-byte payload to w, without holding it whole in memory.
// A write error is returned as a *WriteError, so that the caller can tell a
// gone client from a broken worker; the rest of the payload is then discarded.
func (r *Reader) Copy(w io.Writer, n int) error {
	for n > 0 {
		p, err := r.br.Peek(min(n, r.br.Size()))
		if len(p) == 0 {
			return unexpected(err)
		}
		r.br.Discard(len(p))
		n -= len(p)
		if _, werr := w.Write(p); werr != nil {
			if err := r.Discard(n); err != nil {
				return err
			}
			return &WriteError{Err: werr}
		}
	}
	return nil
}

// DataFollows reports whether the n-byte payload of the frame just read is
// buffered whole, and behind it the header of a Data frame.
func (r *Reader) DataFollows(n int) bool {
	if r.br.Buffered() < n+HeaderLen {
		return false
	}
	p, _ := r.br.Peek(n + 1)
	return Type(p[n]) == Data
}

// AppendData appends to p the n-byte payload of the Data frame just read,
// then those of the Data frames right behind it, as long as each is
// buffered whole and p stays within max bytes. It returns p and how many
// payload bytes it took, 0 if the first payload is not buffered whole or
// does not fit. It never waits for the worker.
func (r *Reader) AppendData(p []byte, n, max int) ([]byte, int) {
	took := 0
	for n <= r.br.Buffered() && len(p)+n <= max {
		b, _ := r.br.Peek(n)
		p = append(p, b...)
		r.br.Discard(n)
		took += n
		h, _ := r.br.Peek(min(HeaderLen, r.br.Buffered()))
		if len(h) < HeaderLen || Type(h[0]) != Data {
			break
		}
		n = int(binary.LittleEndian.Uint32(h[1:]))
		if HeaderLen+n > r.br.Buffered() || len(p)+n > max {
			break
		}
		r.br.Discard(HeaderLen)
	}
	return p, took
}

// Discard skips an n-byte payload.
func (r *Reader) Discard(n int) error {
	_, err := r.br.Discard(n)
	return unexpected(err)
}

// Buffered reports whether bytes of a further frame are already buffered,
// that is whether the next Next will not wait for the worker.
func (r *Reader) Buffered() bool { return r.br.Buffered() > 0 }

// BufferedBeyond reports whether bytes beyond the next n are already
// buffered: those of a further frame, when n payload bytes are unread.
func (r *Reader) BufferedBeyond(n int) bool { return r.br.Buffered() > n }

// WriteError is a failure to write a payload to its destination.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "frame: write: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
