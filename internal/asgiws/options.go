package asgiws

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Options configure Serve. The zero value is the documented defaults.
type Options struct {
	// MaxMessage is the largest message, in bytes, that a client may send;
	// a larger one closes the socket with 1009 (message too big). 0 means
	// 1 MiB; negative, no limit.
	MaxMessage int64

	// Compression negotiates permessage-deflate when the client offers it,
	// without context takeover: a message is compressed on its own, so an
	// idle connection holds no compressor state (context takeover would keep
	// a 1.2 MB writer per connection).
	Compression bool

	// PingInterval is how often Go pings a client whose socket has been
	// quiet, and how long it then waits for the pong before it closes the
	// connection as broken (the app gets websocket.disconnect 1006). 0 means
	// 20 s, uvicorn's default; negative, never.
	PingInterval time.Duration

	// Fail answers the handshake in the app's place when the app cannot: it
	// raised (an *AppError), returned (ErrNoResponse) or sent a bad message
	// (ErrBadMessage) before it accepted, with status 500, or the stream
	// failed (Stream.Recv's error), with 502. The container passes its error
	// funnel. nil: a plain-text response with the status text. Serve also
	// returns the error, so that the caller knows; Fail is the place to log it.
	Fail func(w http.ResponseWriter, r *http.Request, status int, err error)

	// Done, if set, makes Serve return as soon as the handshake is answered
	// (the 101, the 403, the denial response or the error), and the rest
	// of the connection run on goroutines of its own: Done gets what Serve
	// would have returned, once, when the app's coroutine has ended. An idle
	// connection then holds no handler goroutine nor net/http's response
	// buffers (see TestIdleMemory); the caller counts it as open until Done.
	Done func(err error)

	// Stop, once done, closes the socket with 1012 "server restart" (as
	// uvicorn does on shutdown: clients may reconnect to the next server):
	// the app gets websocket.disconnect 1012 and Serve waits for its
	// coroutine to end. The container passes its graceful stop, so that idle sockets do
	// not hold a shutdown for its whole grace. nil: never.
	Stop context.Context

	// Buffers, shared by the connections of a server, lends them their
	// read and write buffers only while they have bytes in them (see
	// Buffers). nil: each holds 1 KiB read and write buffers of its own.
	Buffers *Buffers

	// Logger gets a Debug line for each connection that ends abnormally (the
	// client broke off, a protocol error). nil means slog.Default().
	Logger *slog.Logger
}

// DefaultMaxMessage is Options.MaxMessage's default.
const DefaultMaxMessage = 1 << 20

// DefaultPingInterval is Options.PingInterval's default.
const DefaultPingInterval = 20 * time.Second

func (o Options) maxMessage() int64 {
	switch {
	case o.MaxMessage == 0:
		return DefaultMaxMessage
	case o.MaxMessage < 0:
		return -1
	}
	return o.MaxMessage
}

func (o Options) pingInterval() time.Duration {
	if o.PingInterval == 0 {
		return DefaultPingInterval
	}
	return o.PingInterval
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.Default()
	}
	return o.Logger
}
