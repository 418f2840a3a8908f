package asgiws

import (
	"context"
	"errors"
)

// A Stream is one ASGI connection scope as Serve sees it: the container
// implements it over the worker channel, a test with a goroutine playing the
// app. Serve calls Send from one goroutine at a time and Recv and Consumed
// from another.
type Stream interface {
	// Send hands msg to the app's receive(). It blocks while the stream's
	// window is full (websocket.receive payloads count against it), and
	// returns an error once ctx is done or the stream has ended.
	Send(ctx context.Context, msg Message) error

	// Recv returns the next message the app passed to send(). Once the app's
	// coroutine has ended it returns io.EOF if the coroutine returned, or an
	// *AppError if it raised; any other error means the stream is lost (the
	// worker died, the container stops).
	Recv(ctx context.Context) (Message, error)

	// Consumed reports that Go wrote (or dropped) n more payload bytes that
	// the app sent, so that its window opens again (see PayloadLen).
	Consumed(n int)
}

// A Message is an ASGI message or scope dict. The values Go makes are
// string (UTF-8), []byte, int, bool, nil and []any (a list; a header is a
// []any of two []byte, name and value). In messages from the app Serve also
// takes int64 for int and any slice or array for a list, as the container's
// decoder yields them.
type Message map[string]any

// An AppError is the exception that ended the app's coroutine: Stream.Recv
// returns it instead of io.EOF.
type AppError struct {
	Traceback string // the formatted Python exception
}

func (e *AppError) Error() string { return "app raised an exception:\n" + e.Traceback }

// The causes of the errors Serve returns and passes to Options.Fail, for
// errors.Is.
var (
	// ErrNoResponse: the app returned before it accepted, closed or
	// answered the handshake (500).
	ErrNoResponse = errors.New("asgi: app returned without answering the websocket handshake")
	// ErrBadMessage: the app sent a message that is not allowed at that
	// point or whose values are wrong (500 before the handshake, close 1011
	// after); the error names the message and the key.
	ErrBadMessage = errors.New("asgi: bad websocket message from app")
)
