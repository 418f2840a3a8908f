package asgi

import (
	"fmt"

	"github.com/gowsgi/gowsgi/internal/worker"
	"github.com/gowsgi/gowsgi/wsgi"
)

// Config configures a Container. It is a wsgi.Config, whose fields mean
// what they mean there (App, Python, Workers, Prefix, the limits, Timeout,
// MaxRequests, Preload, ErrorHandler, Logger...), with these differences:
//
//   - App names an ASGI 3.0 callable: a coroutine function of (scope,
//     receive, send), or an object whose __call__ is one.
//   - Threads must be 0: a worker runs one event loop; MaxStreams bounds
//     its concurrency instead.
//   - MaxMemoryBody, MaxMemoryBodies, MaxSpoolBytes and SpoolDir are unused: a request
//     body is streamed to the app as it arrives, never held whole.
//   - Timeout bounds, for each request, the time in which its app sends
//     nothing (then Go sends http.disconnect, answers 504 or cuts the
//     response); a worker whose event loop sends nothing at all for that
//     long while requests are open is stuck: its Python stacks go to the
//     log and it is killed. Websockets are not timed out.
//   - MaxRequests counts requests (streams) handed to a worker.
//   - Backlog and QueueTimeout apply to requests waiting while every
//     worker has MaxStreams open.
type Config struct {
	wsgi.Config

	// MaxStreams is how many requests (and websockets) one worker serves
	// at once; 0 means 1000. Past it, new ones wait for room (Backlog,
	// QueueTimeout).
	MaxStreams int

	// MaxWebSocketMessage is the largest WebSocket message a client may
	// send; a larger one closes the socket with 1009. 0, a negative value
	// or one past it mean the most a worker's channel carries in one
	// message: 1 MiB less 4 KiB.
	MaxWebSocketMessage int64

	// WebSocketCompression negotiates permessage-deflate with clients that
	// offer it.
	WebSocketCompression bool
}

// maxMessage is MaxWebSocketMessage within what a message can carry.
func (cfg Config) maxMessage() int64 {
	if m := cfg.MaxWebSocketMessage; m > 0 && m <= worker.MaxPayload {
		return m
	}
	return worker.MaxPayload
}

// DefaultMaxStreams is MaxStreams' default.
const DefaultMaxStreams = 1000

func (cfg Config) resolve() (Config, error) {
	if cfg.Threads != 0 {
		return cfg, fmt.Errorf("asgi: Config.Threads is %d; it must be 0: an ASGI worker runs one event loop (see MaxStreams)", cfg.Threads)
	}
	if cfg.MaxStreams < 0 {
		return cfg, fmt.Errorf("asgi: Config.MaxStreams is %d; it must be 0 (%d) or more", cfg.MaxStreams, DefaultMaxStreams)
	}
	wc, err := cfg.Config.Resolve()
	if err != nil {
		return cfg, err
	}
	cfg.Config = wc
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	return cfg, nil
}
