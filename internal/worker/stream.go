package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gowsgi/gowsgi/internal/frame"
)

// A Message is an ASGI message dict (or a scope): str keys, values as
// marshal.AppendValue takes them. Decoded from the worker, str is string,
// bytes []byte, int int64, lists and pairs []any.
type Message map[string]any

// payloadLen is what a message counts against its stream's window: the
// bytes of its body or bytes, the code points of its text (Python's len,
// which the worker counts too).
func payloadLen(m Message) int {
	n := 0
	for _, k := range [...]string{"body", "bytes", "text"} {
		switch v := m[k].(type) {
		case []byte:
			n += len(v)
		case string:
			n += utf8.RuneCountInString(v)
		}
	}
	return n
}

// MaxPayload is the largest payload one message may carry either way: a
// frame is bounded by frame.MaxMeta (the worker's max_meta too), and a
// WebSocket message, unlike a body, cannot be split.
const MaxPayload = frame.MaxMeta - 4<<10

// errEnded is the end of a stream whose app returned.
var errEnded = io.EOF

// A Stream is one ASGI connection scope on a worker: Send gives the app's
// receive() its messages, Recv returns what the app sent, Consumed credits
// the worker for payload bytes Go has passed on.
type Stream struct {
	m     *Mux
	id    int64
	what  string
	since time.Time

	mu          sync.Mutex
	q           []Message
	qbuf        [2]Message // q's array while it holds few: a response's start and body
	qBytes      int
	end         error // once the stream ended: errEnded, an *AppError or a *LostError
	detached    bool  // its handler is gone: messages are dropped and credited
	interrupted bool  // Recv returns ErrInterrupted rather than wait
	sent        int64 // payload bytes sent to the worker
	credited    int64 // of which the worker has consumed

	onReady func() // Notify's, until a message or the end is queued

	ready  chan struct{} // a message or the end is queued
	space  chan struct{} // the queue has room again; made once the reader first waits for it
	credit chan struct{} // the worker credited bytes; made once Send first waits for it
	done   chan struct{} // closed at the end; made once Done is first called
}

// ID is the stream's id on its channel.
func (s *Stream) ID() int64 { return s.id }

// Proc is the worker the stream runs on.
func (s *Stream) Proc() *Process { return s.m.proc }

// Done is closed once the app's coroutine has ended (or its worker).
func (s *Stream) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done == nil {
		// Made when first asked for: a request whose response completes
		// never is.
		s.done = make(chan struct{})
		if s.end != nil {
			close(s.done)
		}
	}
	return s.done
}

// Err is why the stream ended: io.EOF if the app returned, an *AppError
// if it raised, a *LostError if its worker went; nil until Done is closed.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end
}

// notify signals c without waiting; a nil c has nobody to signal.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// push queues a message of the worker's; the reader calls it. It does not
// wake the stream's handler (queued says it should be): the reader wakes
// it once it has routed all it read, so that a response's start, body and
// Done, which come in one read, cost the handler one wake-up, not three.
func (s *Stream) push(msg Message) (queued bool, err error) {
	n := payloadLen(msg)
	for {
		s.mu.Lock()
		if s.detached || s.end != nil {
			s.mu.Unlock()
			s.Consumed(n) // nobody will: the app must not wait for it
			return false, nil
		}
		if len(s.q) < maxQueued || n > 0 {
			if s.qBytes+n > frame.Window+frame.MaxMeta {
				s.mu.Unlock()
				return false, fmt.Errorf("stream %d: %d payload bytes sent past its window", s.id, s.qBytes+n)
			}
			s.q = append(s.q, msg)
			s.qBytes += n
			s.mu.Unlock()
			return true, nil
		}
		if s.space == nil {
			s.space = make(chan struct{}, 1)
		}
		space := s.space
		s.mu.Unlock()
		s.wake() // the queue is full: its handler must drain it first
		select {
		case <-space:
		case <-s.Done():
		}
	}
}

// wake tells the stream's handler (Recv, or Notify's function) that
// messages are queued.
func (s *Stream) wake() {
	s.mu.Lock()
	f := s.takeOnReady()
	s.mu.Unlock()
	notify(s.ready)
	if f != nil {
		f()
	}
}

// finish ends the stream with err, after the messages queued.
func (s *Stream) finish(err error) {
	s.mu.Lock()
	first, detached := s.end == nil, s.detached
	if first {
		s.end = err
		if s.done != nil {
			close(s.done)
		}
	}
	f := s.takeOnReady()
	s.mu.Unlock()
	notify(s.ready)
	if f != nil {
		f()
	}
	if first && detached {
		s.raisedAfter(err)
	}
}

// raisedAfter logs err if it is the app's exception, on a stream nobody
// reads any more: its response was complete (a background task raised,
// say), or the client had left. (Not inlined in finish: the *AppError that
// errors.As fills would cost every stream an allocation.)
func (s *Stream) raisedAfter(err error) {
	var ae *AppError
	if errors.As(err, &ae) {
		s.m.proc.log.Error("the app raised after its response", "worker", s.m.proc.ID, "pid", s.m.proc.PID(),
			"stream", s.id, "request", s.what, "traceback", ae.Traceback)
	}
}

func (s *Stream) addCredit(n int64) {
	s.mu.Lock()
	s.credited += n
	credit := s.credit
	s.mu.Unlock()
	notify(credit)
}

// Recv returns the next message the app sent. Once the queue is drained
// and the stream has ended it returns Err's error (io.EOF: the app
// returned), or once Interrupt was called ErrInterrupted; ctx's error if
// ctx is done first.
func (s *Stream) Recv(ctx context.Context) (Message, error) {
	for {
		s.mu.Lock()
		if msg, ok := s.popLocked(); ok {
			space := s.space
			s.mu.Unlock()
			notify(space)
			return msg, nil
		}
		end, interrupted := s.end, s.interrupted
		s.mu.Unlock()
		switch {
		case end != nil:
			return nil, end
		case interrupted:
			return nil, ErrInterrupted
		}
		select {
		case <-s.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ErrInterrupted is Recv's error once Interrupt was called.
var ErrInterrupted = errors.New("worker: Recv interrupted")

// Interrupt ends the wait of Recv, now or once the queue is drained, with
// ErrInterrupted: a caller's own reason to stop waiting (its silence
// clock, say) without a context.WithCancel of ctx or a channel per
// request.
func (s *Stream) Interrupt() {
	s.mu.Lock()
	s.interrupted = true
	s.mu.Unlock()
	notify(s.ready)
}

// Send sends msg to the app's receive(), waiting while the stream's
// window is full (its payload would pass what the worker has credited by
// more than frame.Window). It fails once the stream has ended (with Err's
// error) or ctx is done.
func (s *Stream) Send(ctx context.Context, msg Message) error {
	n := int64(payloadLen(msg))
	for {
		s.mu.Lock()
		end, unacked := s.end, s.sent-s.credited
		fits := end == nil && (unacked == 0 || unacked+n <= frame.Window)
		if fits {
			s.sent += n
		} else if s.credit == nil {
			s.credit = make(chan struct{}, 1)
		}
		credit := s.credit
		s.mu.Unlock()
		if end != nil {
			return end
		}
		if fits {
			break
		}
		select {
		case <-credit:
		case <-s.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// Room for the payload and the keys around it: one allocation.
	b, err := appendFrame(make([]byte, 0, n+128), frame.Message, s.id, map[string]any(msg))
	if err != nil {
		return err
	}
	if err := s.m.write(b); err != nil {
		return fmt.Errorf("worker: sending to stream %d: %w", s.id, err)
	}
	return nil
}

// Consumed credits the worker for n payload bytes of the app's that Go has
// passed on (written to the client), so that its send() may go on.
func (s *Stream) Consumed(n int) {
	if n <= 0 {
		return
	}
	b, err := appendFrame(nil, frame.Credit, s.id, int64(n))
	if err == nil {
		s.m.write(b) // a gone worker: its reader ends the stream
	}
}

// Detach says that Go is done with the stream (its response is complete,
// or the client left): what the app sends from now on is dropped, its
// payload credited, until its Done frees the stream.
func (s *Stream) Detach() {
	s.mu.Lock()
	s.detached = true
	n := s.qBytes
	s.q, s.qBytes, s.qbuf = nil, 0, [2]Message{}
	space := s.space
	s.mu.Unlock()
	notify(space)
	s.Consumed(n)
}

// IsLost reports whether err ends a stream because its worker went.
func IsLost(err error) bool {
	var le *LostError
	return errors.As(err, &le)
}
