package wsgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/gowsgi/gowsgi/internal/respcheck"
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

// responder turns the events of one exchange into the HTTP response.
type responder struct {
	c  *Container
	w  http.ResponseWriter
	r  *http.Request
	ex *worker.Exchange

	started  bool  // the status line is written
	refused  bool  // Go answered instead of the app (a bad Start)
	discard  bool  // drop body bytes: the client left or no body is allowed
	cut      bool  // the HTTP connection must be aborted when done
	declared int64 // the app's Content-Length, or -1
	written  int64

	stopAbort func() bool // unregisters the Abort on the client's leaving

	// pendingFile is the open file of a File event, not sent yet: when End
	// comes next, as it does from the runtime, it is sent after the worker
	// is back in the pool (sendFile), from pendingOff.
	pendingFile *os.File
	pendingOff  int64
}

// respond reads the response from ex, whose request a worker has taken,
// and writes it to w. It gives the channel back to the pool when the
// exchange ends cleanly.
func (c *Container) respond(w http.ResponseWriter, r *http.Request, ex *worker.Exchange) {
	conn := ex.Conn()
	conn.Note(r.Method + " " + r.URL.Path)
	if sb, ok := w.(ServedByWriter); ok {
		sb.ServedBy(conn.Proc.ID)
	}
	rs := &responder{c: c, w: w, r: r, ex: ex, declared: -1}
	ok := rs.run()
	if rs.stopAbort != nil {
		rs.stopAbort()
	}
	ex.Finish()
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

// run reads events until the exchange ends; false means the worker broke.
func (rs *responder) run() bool {
	conn := rs.ex.Conn()
	// Config.Timeout is for an app that sends nothing: it bounds each wait
	// for the worker, and time spent writing to a slow client is not one.
	conn.SetReadTimeout(max(rs.c.cfg.Timeout, 0))
	for first := true; ; first = false {
		if !first && rs.stopAbort == nil && !rs.ex.Buffered() {
			// The response takes more than one read: from now on a
			// client that leaves stops it. (Most responses arrive whole
			// in the first read and never need this.)
			rs.stopAbort = context.AfterFunc(rs.r.Context(), rs.ex.Abort)
		}
		ev, err := rs.ex.Next()
		if err != nil || ev.Kind != worker.EndEvent && ev.Kind != worker.ErrorEvent {
			rs.sendFile() // what follows a file comes after it
		}
		if err == nil && ev.Kind == worker.DataEvent {
			err = rs.data(ev.Len)
		}
		if err != nil {
			rs.broken(err)
			return false
		}
		switch ev.Kind {
		case worker.StartEvent:
			rs.start(ev)
		case worker.FileEvent:
			if err := rs.file(ev); err != nil {
				rs.broken(err)
				return false
			}
		case worker.ErrorEvent:
			rs.appError(ev.Traceback)
			return true
		case worker.EndEvent:
			return true
		}
	}
}

// broken handles a channel that failed: the app sent nothing for too long,
// or the worker died or spoke nonsense.
func (rs *responder) broken(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		rs.timedOut()
		return
	}
	rs.workerLost(err)
}

// start writes the status line and headers of a Start event.
func (rs *responder) start(ev worker.Event) {
	if rs.started {
		rs.refuse(errors.New("a second Start frame"))
		return
	}
	code, err := rs.setHeaders(ev)
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

func (rs *responder) setHeaders(ev worker.Event) (int, error) {
	if ev.Err != nil {
		return 0, ev.Err
	}
	code, err := parseStatus(ev.Status)
	if err != nil {
		return 0, err
	}
	hs := respcheck.NewHeaders(rs.w.Header())
	hs.Grow(len(ev.Headers))
	for _, hd := range ev.Headers {
		if err := hs.Add(hd.Name, hd.Value); err != nil {
			return 0, fmt.Errorf("start_response(): %w", err)
		}
	}
	hs.Finish()
	rs.declared = hs.Declared()
	return code, nil
}

// data copies a Data payload to the client. An error means the channel
// broke.
func (rs *responder) data(n int) error {
	if rs.discard || rs.refused {
		return rs.ex.Skip(n)
	}
	if n < gatherSmall {
		// More is here already: small payloads leave together.
		bp, _ := rs.c.gathers.Get().(*[]byte)
		if bp == nil {
			b := make([]byte, 0, gatherMax)
			bp = &b
		}
		defer rs.c.gathers.Put(bp)
		if p, took := rs.ex.Gather((*bp)[:0], gatherMax); took > 0 {
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
		return rs.ex.Skip(n - fits)
	}
	sent, err := rs.copy(n)
	if sent {
		rs.flushIfIdle()
	}
	return err
}

// copy sends the next n payload bytes to the client. It reports false if
// the client is gone: the bytes are consumed all the same, so the channel
// stays in step and the worker serves on. An error means the worker broke.
func (rs *responder) copy(n int) (bool, error) {
	err := rs.ex.Copy(rs.w, n)
	var we *worker.WriteError
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

// flushIfIdle flushes unless more of the response is buffered already:
// what the app yielded goes out before Go waits for the worker again.
func (rs *responder) flushIfIdle() {
	if !rs.ex.Buffered() {
		http.NewResponseController(rs.w).Flush()
	}
}

// file takes the open file of a File event for sendFile. An error means
// the worker broke the protocol.
func (rs *responder) file(ev worker.Event) error {
	if ev.Err != nil {
		// The descriptor was lost: not the worker's fault, but the body
		// cannot be completed.
		if !rs.discard && !rs.refused {
			rs.c.log.Error("cannot send the app's file", "request_id", requestID(rs.w, rs.r),
				"method", rs.r.Method, "path", rs.r.URL.Path, "worker", rs.ex.Conn().Proc.ID, "reason", ev.Err.Error())
			rs.writeFailed(ev.Err)
		}
		return nil
	}
	if !rs.started {
		ev.File.Close()
		return &worker.ProtocolError{Err: errors.New("File frame before Start")}
	}
	rs.pendingFile, rs.pendingOff = ev.File, ev.Offset
	return nil
}

// sendFile sends the file a File event left, if any, with sendfile(2),
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
			"request_id", requestID(rs.w, rs.r), "method", rs.r.Method, "path", rs.r.URL.Path,
			"content_length", rs.declared)
	default:
		// The client went away.
		rs.cut = true
	}
	rs.ex.Abort()
}

// fail answers in the app's place through the Container's error funnel,
// or cuts the connection if the response has started.
func (rs *responder) fail(status int, err error, attrs ...any) {
	p := rs.ex.Conn().Proc
	attrs = append(attrs, "worker", p.ID, "pid", p.PID())
	if rs.c.fail(rs.w, rs.r, rs.started, status, err, attrs...) {
		rs.cut = true
	}
	rs.started = true
}

// refuse answers 500 in the app's place for a response Go will not send.
func (rs *responder) refuse(err error) {
	rs.ex.Abort()
	if rs.refused {
		return
	}
	rs.refused = true
	rs.fail(http.StatusInternalServerError, fmt.Errorf("%w: %v", ErrInvalidResponse, err))
}

// appError handles an Error event: the app raised.
func (rs *responder) appError(traceback string) {
	if rs.refused {
		rs.c.log.Error(ErrAppRaised.Error(), "request_id", requestID(rs.w, rs.r),
			"method", rs.r.Method, "path", rs.r.URL.Path, "traceback", traceback)
		return
	}
	rs.fail(http.StatusInternalServerError, ErrAppRaised, "traceback", traceback)
}

// workerLost handles a channel that broke: the worker died or spoke
// nonsense. The request gets 502; the log says why.
func (rs *responder) workerLost(err error) {
	p := rs.ex.Conn().Proc
	why := err.Error()
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
	rs.fail(http.StatusBadGateway, fmt.Errorf("%w: %s", ErrWorkerLost, why))
}

// timedOut handles an app that sent nothing for Config.Timeout: its stacks
// go to the log, its worker_abort hook runs if it has one, then the worker
// is killed. The client gets 504.
func (rs *responder) timedOut() {
	p := rs.ex.Conn().Proc
	p.DumpStacks(2 * time.Second)
	p.Abort(abortGrace)
	p.Kill()
	rs.fail(http.StatusGatewayTimeout,
		fmt.Errorf("%w: the app sent nothing for %v; the worker's Python stacks are above, and it was killed",
			ErrTimeout, rs.c.cfg.Timeout), "timeout", rs.c.cfg.Timeout)
}
