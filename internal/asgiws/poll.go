package asgiws

import "errors"

// A Poller is a Stream that can say when it has a message, so that an idle
// connection needs no goroutine waiting in Recv: with Options.Done, Serve
// then holds one goroutine per idle socket (the reader's) instead of two.
// The container's stream implements it; Serve falls back to Recv without.
type Poller interface {
	// TryRecv is Recv without the wait: ok is false if no message is
	// queued and the stream has not ended (err is then nil).
	TryRecv() (msg Message, ok bool, err error)

	// Notify calls f once, on any goroutine, as soon as TryRecv would
	// return ok or an error: at once (perhaps before Notify returns) if it
	// would now. f must not block. One call to Notify at a time.
	Notify(f func())
}

// errPolling is run's outcome when poll took over: the end of the
// connection calls Options.Done itself.
var errPolling = errors.New("asgiws: polling")

// poll handles the app's messages while there are any, then asks p to call
// it again when there are more, and returns: between messages no goroutine
// is left waiting. At the end of the app's coroutine it ends the
// connection and calls Options.Done.
func (c *conn) poll(p Poller) {
	for {
		msg, ok, err := p.TryRecv()
		if err != nil {
			c.opts.Done(c.end(err))
			return
		}
		if !ok {
			p.Notify(func() { go c.poll(p) })
			return
		}
		c.handle(msg)
	}
}
