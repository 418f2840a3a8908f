package asgi

import (
	"context"
	"errors"
	"net/http"

	"github.com/gowsgi/gowsgi/internal/asgiws"
	"github.com/gowsgi/gowsgi/internal/worker"
	"github.com/gowsgi/gowsgi/wsgi"
)

// serveWebSocket bridges a WebSocket handshake to a websocket scope of the
// app (package asgiws).
func (c *Container) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	s, ok := c.open(w, r, worker.Message(asgiws.Scope(r, c.cfg.Prefix)), nil)
	if !ok {
		return
	}
	// Past the handshake the connection runs on asgiws's goroutines, not
	// this handler's (an idle socket holds no goroutine of net/http's);
	// it counts as a request in flight until Done.
	if !c.gate.Enter() {
		s.Detach()
		return
	}
	opts := asgiws.Options{
		MaxMessage:  c.cfg.maxMessage(),
		Compression: c.cfg.WebSocketCompression,
		Logger:      c.log,
		Stop:        c.stopping,
		Buffers:     &c.wsBuffers,
		Fail: func(w http.ResponseWriter, r *http.Request, status int, err error) {
			var ae *asgiws.AppError
			attrs := []any{"worker", s.Proc().ID, "stream", s.ID()}
			switch {
			case errors.As(err, &ae):
				err = wsgi.ErrAppRaised
				attrs = append(attrs, "traceback", ae.Traceback)
			case status == http.StatusBadGateway:
				err = errors.Join(wsgi.ErrWorkerLost, err)
			default:
				err = errors.Join(wsgi.ErrInvalidResponse, err)
			}
			c.fail(w, r, false, status, err, attrs...)
		},
	}
	opts.Done = func(err error) {
		defer c.gate.Leave()
		s.Detach()
		if err == nil {
			s.Proc().Served.Add(1)
		}
	}
	asgiws.Serve(w, r, wsStream{s}, opts)
}

// wsStream is a worker stream as asgiws sees it.
type wsStream struct{ s *worker.Stream }

func (ws wsStream) Send(ctx context.Context, msg asgiws.Message) error {
	return ws.s.Send(ctx, worker.Message(msg))
}

func (ws wsStream) Recv(ctx context.Context) (asgiws.Message, error) {
	msg, err := ws.s.Recv(ctx)
	return asgiws.Message(msg), appError(err)
}

// TryRecv and Notify make wsStream an asgiws.Poller: an idle socket then
// holds no goroutine waiting for the app.
func (ws wsStream) TryRecv() (asgiws.Message, bool, error) {
	msg, ok, err := ws.s.TryRecv()
	return asgiws.Message(msg), ok, appError(err)
}

func (ws wsStream) Notify(f func()) { ws.s.Notify(f) }

var _ asgiws.Poller = wsStream{}

// appError is err with a worker.AppError as asgiws's.
func appError(err error) error {
	var ae *worker.AppError
	if errors.As(err, &ae) {
		return &asgiws.AppError{Traceback: ae.Traceback}
	}
	return err
}

func (ws wsStream) Consumed(n int) { ws.s.Consumed(n) }
