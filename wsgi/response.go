package wsgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
	"github.com/gowsgi/gowsgi/internal/worker"
)

// A ServedByWriter is a ResponseWriter that wants to know which worker
// served the request, as an access log does. The Container calls ServedBy
// with the worker's id once a worker has taken the request.
type ServedByWriter interface {
	http.ResponseWriter
	ServedBy(worker int)
}

// A stream of small Data payloads, each its own write, would leave through
// net/http's 2 and 4 KiB buffers, a system call and a TCP segment for every
// few KB. Those already buffered (Go reads them in bursts) are copied
// together and written at once, up to gatherMax bytes: 60% fewer writes and
// 30% less Go CPU for 100 chunks of 1 KB. Nothing waits for the worker, so
// no payload leaves later than it would one by one.
const (
	gatherSmall = 16 << 10 // payloads below this are gathered
	gatherMax   = 64 << 10
)

// responder turns the frames of one exchange into the HTTP response.
type responder struct {
	c    *Container
	w    http.ResponseWriter
	r    *http.Request
	conn *worker.Conn

	started  bool  // the status line is written
	refused  bool  // Go answered instead of the app (a bad Start frame)
	discard  bool  // drop body bytes: the client left or no body is allowed
	cut      bool  // the HTTP connection must be aborted when done
	declared int64 // the app's Content-Length, or -1
	written  int64
	seq      uint64 // the exchange, for Abort

	stopAbort func() bool // unregisters the Abort on the client's leaving

	// pendingFile is the open file of a File frame, not sent yet: when End
	// comes next, as it does from the runtime, it is sent after the worker
	// is back in the pool (sendFile), from pendingOff.
	pendingFile *os.File
	pendingOff  int64
}

// abort asks the worker to stop this response.
func (rs *responder) abort() { rs.conn.Abort(rs.seq) }

// respond reads the response from conn and writes it to w. It returns conn
// to the pool when the exchange ends cleanly.
func (c *Container) respond(w http.ResponseWriter, r *http.Request, conn *worker.Conn) {
	conn.Note(r.Method + " " + r.URL.Path)
	if sb, ok := w.(ServedByWriter); ok {
		sb.ServedBy(conn.Proc.ID)
	}
	rs := &responder{c: c, w: w, r: r, conn: conn, declared: -1, seq: conn.Exchange()}
	ok := rs.run()
	if rs.stopAbort != nil {
		rs.stopAbort()
	}
	conn.Finish()
	if ok {
		c.pool.Release(conn)
	} else {
		c.pool.Abandon(conn)
	}
	// A wsgi.file_wrapper response: the worker has nothing more to say,
	// so a slow client reading a large file holds no worker thread.
	rs.sendFile()
	if rs.cut {
		// Never let a truncated body look complete: what the app produced
		// goes out, then the connection is cut mid-body.
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
}

// run reads frames until the exchange ends; false means the worker broke.
func (rs *responder) run() bool {
	R := rs.conn.R
	// Config.Timeout is for an app that sends nothing: it bounds each wait
	// for the worker, and time spent writing to a slow client is not one.
	rs.conn.SetReadTimeout(rs.c.cfg.Timeout)
	for first := true; ; first = false {
		if !first && rs.stopAbort == nil && !R.Buffered() {
			// The response takes more than one read: from now on a
			// client that leaves stops it. (Most responses arrive whole
			// in the first read and never need this.)
			rs.stopAbort = context.AfterFunc(rs.r.Context(), rs.abort)
		}
		t, n, err := R.Next()
		if err != nil || t != frame.End && t != frame.Error {
			rs.sendFile() // what follows a file comes after it
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			rs.timedOut()
			return false
		}
		if err != nil {
			rs.workerLost(err)
			return false
		}
		switch t {
		case frame.Data:
			err := rs.data(n)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// The app stopped sending in the middle of a payload.
				rs.timedOut()
				return false
			}
			if err != nil {
				rs.workerLost(err)
				return false
			}
		case frame.Start, frame.File, frame.Error, frame.End:
			meta, err := R.Meta(t, n)
			if err != nil {
				rs.workerLost(err)
				return false
			}
			switch t {
			case frame.Start:
				rs.start(meta)
			case frame.File:
				if err := rs.file(meta); err != nil {
					rs.workerLost(err)
					return false
				}
			case frame.Error:
				rs.appError(string(meta))
				return true
			case frame.End:
				return true
			}
		default:
			rs.workerLost(fmt.Errorf("unexpected %v frame", t))
			return false
		}
	}
}

// start writes the status line and headers of a Start frame.
func (rs *responder) start(meta []byte) {
	if rs.started {
		rs.refuse(errors.New("a second Start frame"))
		return
	}
	code, err := rs.setHeaders(meta)
	if err != nil {
		rs.refuse(err)
		return
	}
	rs.started = true
	if code == http.StatusNoContent || code == http.StatusNotModified {
		rs.discard = true
	}
	rs.w.WriteHeader(code)
}

func (rs *responder) setHeaders(meta []byte) (int, error) {
	v, err := marshal.Decode(meta)
	if err != nil {
		return 0, err
	}
	t, ok := v.(marshal.Tuple)
	if !ok || len(t) != 2 {
		return 0, fmt.Errorf("Start frame holds %s, not (status, headers)", pyType(v))
	}
	code, err := parseStatus(t[0])
	if err != nil {
		return 0, err
	}
	list, ok := t[1].([]any)
	if !ok {
		return 0, fmt.Errorf("start_response(): headers must be a list (PEP 3333), not %s", pyType(t[1]))
	}
	h := rs.w.Header()
	for _, item := range list {
		name, value, err := parseHeader(item)
		if err != nil {
			return 0, err
		}
		if name == "Content-Length" {
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 || rs.declared >= 0 && n != rs.declared {
				return 0, fmt.Errorf("start_response(): bad Content-Length %q", value)
			}
			rs.declared = n
			h[name] = []string{value}
			continue
		}
		h[name] = append(h[name], value)
	}
	if _, ok := h["Content-Type"]; !ok {
		h["Content-Type"] = nil // the app set none: net/http must not sniff one
	}
	return code, nil
}

// data copies a Data frame's payload to the client.
func (rs *responder) data(n int) error {
	if rs.discard || rs.refused {
		return rs.conn.R.Discard(n)
	}
	if n < gatherSmall && rs.conn.R.DataFollows(n) {
		// More is here already: small payloads leave together.
		bp, _ := rs.c.gathers.Get().(*[]byte)
		if bp == nil {
			b := make([]byte, 0, gatherMax)
			bp = &b
		}
		defer rs.c.gathers.Put(bp)
		if p, took := rs.conn.R.AppendData((*bp)[:0], n, gatherMax); took > 0 {
			rs.write(p)
			return nil
		}
	}
	if rs.declared >= 0 && rs.written+int64(n) > rs.declared {
		// Never more bytes than the app declared: send what fits.
		fits := int(rs.declared - rs.written)
		sent, err := rs.copy(fits)
		if err != nil {
			return err
		}
		if sent {
			rs.writeFailed(http.ErrContentLength)
		}
		return rs.conn.R.Discard(n - fits)
	}
	sent, err := rs.copy(n)
	if sent {
		rs.flushIfIdle()
	}
	return err
}

// copy sends the next n payload bytes from the channel to the client. It
// reports false if the client is gone: the bytes are consumed all the same,
// so the channel stays in step and the worker serves on. An error means
// the worker broke.
func (rs *responder) copy(n int) (bool, error) {
	err := rs.conn.R.Copy(rs.w, n)
	var we *frame.WriteError
	if errors.As(err, &we) {
		rs.writeFailed(we.Err)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	rs.written += int64(n)
	return true, nil
}

// write writes payload bytes that are in hand.
func (rs *responder) write(p []byte) {
	if rs.declared >= 0 && rs.written+int64(len(p)) > rs.declared {
		// Never more bytes than the app declared: send what fits.
		fits := rs.declared - rs.written
		rs.w.Write(p[:fits])
		rs.written += fits
		rs.writeFailed(http.ErrContentLength)
		return
	}
	if _, err := rs.w.Write(p); err != nil {
		rs.writeFailed(err)
		return
	}
	rs.written += int64(len(p))
	rs.flushIfIdle()
}

// flushIfIdle flushes unless a further frame is buffered already: what the
// app yielded goes out before Go waits for the worker again.
func (rs *responder) flushIfIdle() {
	if !rs.conn.R.Buffered() {
		http.NewResponseController(rs.w).Flush()
	}
}

// file takes the open file of a File frame, which came with it as an
// SCM_RIGHTS descriptor, for sendFile. An error means the worker broke the
// protocol.
func (rs *responder) file(meta []byte) error {
	f, err := rs.conn.TakeFile()
	if errors.Is(err, worker.ErrFileLost) {
		// Not the worker's fault, but the body cannot be completed.
		if !rs.discard && !rs.refused {
			rs.c.log.Error("cannot send the app's file", "method", rs.r.Method, "path", rs.r.URL.Path,
				"worker", rs.conn.Proc.ID, "reason", err.Error())
			rs.writeFailed(err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	v, err := marshal.Decode(meta)
	off, ok := v.(int64)
	if err != nil || !ok || off < 0 {
		f.Close()
		return fmt.Errorf("File frame holds %s, not an offset", pyType(v))
	}
	if !rs.started {
		f.Close()
		return errors.New("File frame before Start")
	}
	rs.pendingFile, rs.pendingOff = f, off
	return nil
}

// sendFile sends the file a File frame left, if any, with sendfile(2),
// unless the body is dropped.
func (rs *responder) sendFile() {
	f, off := rs.pendingFile, rs.pendingOff
	if f == nil {
		return
	}
	rs.pendingFile = nil
	defer f.Close()
	if rs.discard || rs.refused {
		return
	}
	n := int64(-1) // to the end of the file
	if rs.declared >= 0 {
		if n = rs.declared - rs.written; n <= 0 {
			return
		}
	}
	src, done := fileFrom(f, off)
	defer done()
	// The status line and headers go out on their own: net/http would
	// otherwise read the file's first 512 bytes to send with them.
	http.NewResponseController(rs.w).Flush()
	var copied int64
	var err error
	if n < 0 {
		copied, err = io.Copy(rs.w, src)
	} else {
		// A file shorter than the Content-Length ends in io.EOF: net/http
		// then closes the connection after the short body.
		copied, err = io.CopyN(rs.w, src, n)
	}
	rs.written += copied
	if err != nil && err != io.EOF {
		rs.writeFailed(err)
	}
}

// writeFailed handles a failed write of body bytes.
func (rs *responder) writeFailed(err error) {
	rs.discard = true
	switch {
	case errors.Is(err, http.ErrBodyNotAllowed):
		return // HEAD, 204, 304: net/http drops the body, as it should
	case errors.Is(err, http.ErrContentLength):
		rs.c.log.Error("app sent more than its Content-Length; the excess was dropped",
			"method", rs.r.Method, "path", rs.r.URL.Path, "content_length", rs.declared)
	default:
		// The client went away.
		rs.cut = true
	}
	rs.abort()
}

// refuse answers 500 in the app's place for a response Go will not send.
func (rs *responder) refuse(err error) {
	rs.c.log.Error("invalid response from app", "method", rs.r.Method, "path", rs.r.URL.Path,
		"worker", rs.conn.Proc.ID, "reason", err.Error())
	rs.abort()
	if rs.refused {
		return
	}
	rs.refused = true
	if rs.started {
		rs.cut = true
		return
	}
	clearHeaders(rs.w.Header())
	http.Error(rs.w, "500 Internal Server Error", http.StatusInternalServerError)
	rs.started = true
}

// appError handles an Error frame: the app raised.
func (rs *responder) appError(traceback string) {
	rs.c.log.Error("app raised an exception", "method", rs.r.Method, "path", rs.r.URL.Path,
		"worker", rs.conn.Proc.ID, "traceback", traceback)
	if rs.refused {
		return
	}
	if rs.started {
		rs.cut = true
		return
	}
	clearHeaders(rs.w.Header())
	http.Error(rs.w, "500 Internal Server Error", http.StatusInternalServerError)
}

// workerLost handles a channel that broke: the worker died or spoke
// nonsense. The request gets 502 naming why.
func (rs *responder) workerLost(err error) {
	p := rs.conn.Proc
	why := "protocol error: " + err.Error()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, os.ErrClosed) {
		why = "it exited"
		select {
		case <-p.Done():
			why = "it exited: " + p.Exit()
		case <-time.After(2 * time.Second):
		}
	} else {
		p.Kill()
	}
	rs.c.log.Error("worker failed during a request", "worker", p.ID, "pid", p.PID(),
		"method", rs.r.Method, "path", rs.r.URL.Path, "reason", why)
	if rs.started {
		rs.cut = true
		return
	}
	clearHeaders(rs.w.Header())
	http.Error(rs.w, fmt.Sprintf("502 Bad Gateway: worker %d (pid %d) failed: %s", p.ID, p.PID(), why),
		http.StatusBadGateway)
}

// timedOut handles an app that sent nothing for Config.Timeout: its stacks
// go to the log, then the worker is killed. The client gets 504.
func (rs *responder) timedOut() {
	p := rs.conn.Proc
	rs.c.log.Error("request timed out: dumping the worker's Python stacks, then killing it",
		"worker", p.ID, "pid", p.PID(), "method", rs.r.Method, "path", rs.r.URL.Path,
		"timeout", rs.c.cfg.Timeout)
	p.DumpStacks(2 * time.Second)
	p.Kill()
	if rs.started {
		rs.cut = true
		return
	}
	clearHeaders(rs.w.Header())
	http.Error(rs.w, fmt.Sprintf("504 Gateway Timeout: the application sent nothing for %v", rs.c.cfg.Timeout),
		http.StatusGatewayTimeout)
}

func clearHeaders(h http.Header) {
	for k := range h {
		delete(h, k)
	}
}
