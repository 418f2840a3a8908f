package asgiws

import (
	"errors"
	"net/http"
)

// Serve runs the WebSocket connection that r asks for with the app on the
// other end of s (whose scope the caller opened, see Scope), until the app's
// coroutine ends: it returns nil if the connection ended as the protocol
// allows (whoever closed it, even a client that broke off), else why not
// (the app raised: an *AppError; a bad message: ErrBadMessage; the stream's
// own error). The caller routes to Serve only requests with
// "Upgrade: websocket"; an invalid handshake gets the 4xx coder/websocket
// answers, and the app a websocket.disconnect.
func Serve(w http.ResponseWriter, r *http.Request, s Stream, opts Options) error {
	return errors.New("asgiws: not implemented yet")
}
