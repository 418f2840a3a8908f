package worker

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
)

// An Exchange is one request and its response on a worker's channel: the
// typed API over the frame codec (package frame) and the marshal payloads.
// Build the request with StartRequest, Add and EndRequest; the pool writes
// it on a Conn (Send); then read the response with Next until an End or
// Error event, consuming each Data payload before the next call.
//
// An Exchange may be reused for another request once Finish has been
// called.
type Exchange struct {
	frame []byte      // the Request frame up to its body
	body  []byte      // an in-memory body, sent after frame without a copy
	bufs  [2][]byte   // what Send writes: frame, body
	wbufs net.Buffers // over bufs, consumed by the write

	conn    *Conn
	seq     uint64   // the Conn's exchange, for Abort
	data    int      // payload bytes of the current Data frame not consumed
	headers []Header // a StartEvent's, reused by the next exchange
}

// StartRequest begins a new request: the environ's variables follow with
// Add, and EndRequest completes it.
func (ex *Exchange) StartRequest() {
	b := append(ex.frame[:0], make([]byte, frame.HeaderLen)...)
	b = marshal.AppendTuple(b, 2)
	ex.frame = marshal.AppendDictStart(b)
	ex.body, ex.conn, ex.data = nil, nil, 0
}

// Add adds an environ variable; each byte of key and value is one
// character of the worker's native str (latin-1, PEP 3333).
func (ex *Exchange) Add(key, value string) {
	ex.frame = marshal.AppendStr(marshal.AppendStr(ex.frame, key), value)
}

// AddBool adds an environ variable whose value is a Python bool.
func (ex *Exchange) AddBool(key string, value bool) {
	ex.frame = marshal.AppendBool(marshal.AppendStr(ex.frame, key), value)
}

// EndRequest completes the request with its body: mem, held in memory
// (the Exchange keeps it, not copied, until Send), or, if file is not "",
// the path of the file it was spooled to, which the worker opens.
func (ex *Exchange) EndRequest(mem []byte, file string) {
	b := marshal.AppendDictEnd(ex.frame)
	if file != "" {
		b = marshal.AppendStr(b, file)
		mem = nil
	} else {
		b = marshal.AppendBytesHeader(b, len(mem))
	}
	frame.AppendHeader(b[:0], frame.Request, len(b)-frame.HeaderLen+len(mem))
	ex.frame, ex.body = b, mem
}

// Send writes the request on c, an idle channel, and opens the exchange
// on it. An error means the request did not reach the worker, which is
// gone: it is safe to send it to another.
func (ex *Exchange) Send(c *Conn) error {
	ex.conn, ex.data = c, 0
	ex.bufs = [2][]byte{ex.frame, ex.body}
	ex.wbufs = ex.bufs[:]
	seq, err := c.begin(&ex.wbufs)
	ex.seq = seq
	return err
}

// Conn is the channel the request was sent on, nil before Send.
func (ex *Exchange) Conn() *Conn { return ex.conn }

// EventKind is the kind of an Event.
type EventKind uint8

// The events of a response, in the order a worker sends them: one Start,
// then Data and File events, then End or Error.
const (
	StartEvent EventKind = iota + 1 // status and headers
	DataEvent                       // Len body bytes, to consume
	FileEvent                       // a body from an open file
	EndEvent                        // the response is complete
	ErrorEvent                      // the app raised: Traceback
)

// Header is one response header as the app gave it, its value as bytes
// (each latin-1 character of the app's str one byte).
type Header struct {
	Name, Value string
}

// Event is one step of a response.
type Event struct {
	Kind EventKind

	// Err, if not nil, says why the event cannot be used, while the
	// exchange goes on: a Start whose values are not what PEP 3333 asks
	// for (the app's fault), a File whose descriptor was lost
	// (ErrFileLost).
	Err error

	Status  string   // StartEvent: the status line, as "200 OK"
	Headers []Header // StartEvent; valid until the Exchange is reused

	Len int // DataEvent: payload bytes, consumed with Copy, Gather or Skip

	File   *os.File // FileEvent: the caller owns it
	Offset int64    // FileEvent: where the body starts in File

	Traceback string // ErrorEvent
}

// A ProtocolError is a worker that broke the channel's protocol: its
// process cannot be trusted with another request.
type ProtocolError struct{ Err error }

func (e *ProtocolError) Error() string { return "protocol error: " + e.Err.Error() }
func (e *ProtocolError) Unwrap() error { return e.Err }

// WriteError is a failure to write payload bytes to their destination
// (the client): the worker is not at fault, and the payload was consumed.
type WriteError = frame.WriteError

// Next reads the next event. The error is a channel failure, after which
// the exchange cannot go on: os.ErrDeadlineExceeded wrapped if the worker
// sent nothing for the Conn's read timeout, io.EOF or io.ErrUnexpectedEOF
// if it exited, a *ProtocolError if it spoke nonsense.
func (ex *Exchange) Next() (Event, error) {
	r := ex.conn.r
	if ex.data > 0 {
		if err := r.Discard(ex.data); err != nil {
			return Event{}, err
		}
		ex.data = 0
	}
	t, n, err := r.Next()
	if err != nil {
		return Event{}, err
	}
	switch t {
	case frame.Data:
		ex.data = n
		return Event{Kind: DataEvent, Len: n}, nil
	case frame.End:
		if err := r.Discard(n); err != nil {
			return Event{}, err
		}
		return Event{Kind: EndEvent}, nil
	case frame.Start, frame.File, frame.Error:
	default:
		return Event{}, &ProtocolError{fmt.Errorf("unexpected %v frame", t)}
	}
	meta, err := r.Meta(t, n)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return Event{}, err
		}
		return Event{}, &ProtocolError{err}
	}
	switch t {
	case frame.Start:
		ev := Event{Kind: StartEvent}
		ev.Status, ev.Headers, ev.Err = decodeStart(meta, ex.headers[:0])
		ex.headers = ev.Headers
		return ev, nil
	case frame.File:
		return ex.file(meta)
	}
	return Event{Kind: ErrorEvent, Traceback: string(meta)}, nil
}

// file turns a File frame and the descriptor that came with it into an
// event.
func (ex *Exchange) file(meta []byte) (Event, error) {
	f, err := ex.conn.rights.take()
	if errors.Is(err, ErrFileLost) {
		return Event{Kind: FileEvent, Err: err}, nil
	}
	if err != nil {
		return Event{}, &ProtocolError{err}
	}
	v, err := marshal.Decode(meta)
	off, ok := v.(int64)
	if err != nil || !ok || off < 0 {
		f.Close()
		return Event{}, &ProtocolError{fmt.Errorf("File frame holds %s, not an offset", pyType(v))}
	}
	return Event{Kind: FileEvent, File: f, Offset: off}, nil
}

// Copy copies the next n bytes of the current Data payload to w, without
// holding them whole. A failed write is a *WriteError; the n bytes are
// consumed all the same, so the channel stays in step.
func (ex *Exchange) Copy(w io.Writer, n int) error {
	n = min(n, ex.data)
	ex.data -= n
	return ex.conn.r.Copy(w, n)
}

// Skip drops the next n bytes of the current Data payload.
func (ex *Exchange) Skip(n int) error {
	n = min(n, ex.data)
	ex.data -= n
	return ex.conn.r.Discard(n)
}

// Gather appends to p the current Data payload and those of the Data
// frames already buffered right behind it, while p stays within max
// bytes, and reports how many bytes it took: 0 if the current payload is
// not buffered whole or does not fit, and then nothing is consumed. It
// never waits for the worker. It is for many small payloads: they leave
// in one write.
func (ex *Exchange) Gather(p []byte, max int) ([]byte, int) {
	if ex.data == 0 || !ex.conn.r.DataFollows(ex.data) {
		return p, 0
	}
	p, took := ex.conn.r.AppendData(p, ex.data, max)
	if took > 0 {
		ex.data = 0
	}
	return p, took
}

// Buffered reports whether more of the response is buffered already:
// the next Next, after the current payload, will not wait for the worker.
func (ex *Exchange) Buffered() bool { return ex.conn.r.BufferedBeyond(ex.data) }

// Abort asks the worker to stop this response: it stops iterating, calls
// close() and ends with End or Error. It may be called from any goroutine,
// and does nothing once the exchange has finished.
func (ex *Exchange) Abort() { ex.conn.Abort(ex.seq) }

// Finish ends the exchange, after End, Error or a failure: the channel's
// undelivered descriptors are closed.
func (ex *Exchange) Finish() { ex.conn.Finish() }

// StartError is a Start frame whose values are not what PEP 3333 asks of
// start_response's arguments.
type StartError struct{ Msg string }

func (e *StartError) Error() string { return e.Msg }

func startErrorf(format string, a ...any) error {
	return &StartError{fmt.Sprintf(format, a...)}
}

// decodeStart decodes a Start frame's (status, [(name, value), ...]) into
// headers, checking the types PEP 3333 requires and turning each str into
// its latin-1 bytes.
func decodeStart(meta []byte, headers []Header) (string, []Header, error) {
	v, err := marshal.Decode(meta)
	if err != nil {
		return "", nil, &StartError{err.Error()}
	}
	t, ok := v.(marshal.Tuple)
	if !ok || len(t) != 2 {
		return "", nil, startErrorf("Start frame holds %s, not (status, headers)", pyType(v))
	}
	status, ok := t[0].(string)
	if !ok {
		return "", nil, startErrorf("start_response(): status must be str (PEP 3333), not %s", pyType(t[0]))
	}
	if status, ok = marshal.Latin1(status); !ok {
		return "", nil, startErrorf("start_response(): status %q has a control or non-latin-1 character", t[0])
	}
	list, ok := t[1].([]any)
	if !ok {
		return "", nil, startErrorf("start_response(): headers must be a list (PEP 3333), not %s", pyType(t[1]))
	}
	for _, item := range list {
		h, err := decodeHeader(item)
		if err != nil {
			return "", nil, err
		}
		headers = append(headers, h)
	}
	return status, headers, nil
}

func decodeHeader(item any) (Header, error) {
	t, ok := item.(marshal.Tuple)
	if !ok || len(t) != 2 {
		return Header{}, startErrorf("start_response(): each header must be a (name, value) tuple (PEP 3333), not %s", pyType(item))
	}
	name, ok := t[0].(string)
	if !ok {
		return Header{}, startErrorf("start_response(): header name must be str (PEP 3333), not %s", pyType(t[0]))
	}
	value, ok := t[1].(string)
	if !ok {
		return Header{}, startErrorf("start_response(): header %s has a value of type %s where PEP 3333 needs str", name, pyType(t[1]))
	}
	raw, ok := marshal.Latin1(value)
	if !ok {
		return Header{}, startErrorf("start_response(): header %s value %q has a character beyond latin-1", name, value)
	}
	return Header{Name: name, Value: raw}, nil
}

// pyType names the Python type a decoded marshal value came from.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "str"
	case []byte:
		return "bytes"
	case int64:
		return "int"
	case bool:
		return "bool"
	case marshal.Tuple:
		return "tuple"
	case []any:
		return "list"
	case map[any]any:
		return "dict"
	}
	return fmt.Sprintf("%T", v)
}
