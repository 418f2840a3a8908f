// Package asgiws bridges a client's WebSocket and an ASGI application's
// websocket connection scope (the ASGI HTTP & WebSocket spec, version 2.5).
//
// The Go side of the socket is github.com/coder/websocket: it does the
// handshake, ping/pong, fragmentation, the message size limit and
// permessage-deflate. The app side is a Stream, which the ASGI container
// implements over its worker channel; this package knows nothing of frames or
// workers, and a test can play the app with a goroutine.
//
// Serve runs one connection from the request that asks for it to the end of
// the app's coroutine:
//
//	Go → app   websocket.connect
//	app → Go   websocket.accept                 → 101, the handshake completes
//	           websocket.close                  → 403, no handshake
//	           websocket.http.response.start    → that HTTP response instead
//	              and .body… (the denial response extension)
//	both ways  websocket.receive / websocket.send, {"text": s} or {"bytes": b}
//	app → Go   websocket.close {code, reason}   → a close frame
//	           an exception, a bad message      → a close 1011
//	Options.Stop                                → a close 1012 "server restart"
//	Go → app   websocket.disconnect {code, reason}: the client closed (its
//	           code, 1005 if it gave none), the app's close was answered (the
//	           app's code), the socket broke (1006), a message was over
//	           Options.MaxMessage (1009) or its text not UTF-8 (1007)
//
// Serve blocks until the app's coroutine ends, unless Options.Done is set:
// then it returns once the handshake is answered, and the connection runs
// on goroutines of its own. If the Stream is also a Poller, no goroutine
// waits for the app between its messages: an idle connection costs one
// goroutine (the one reading the client), 1 KiB read and write buffers, and
// timers (pings, Options.Stop) that are not goroutines. With
// Options.Buffers it holds no buffer (they are lent while bytes are in
// them), and once it is quiet its reader waits on a 2 KiB stack, not in
// coder/websocket's Reader (see lendingConn). TestIdleMemory logs the figure per connection
// in each mode.
package asgiws
