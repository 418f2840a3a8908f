package asgiws

import (
	"bufio"
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gowsgi/gowsgi/internal/rawio"
)

// A lendingConn is a hijacked connection whose reads go into buffers that
// Buffers lends (rawio.LentReader), and whose frames are gathered in one
// until they go out (fw): while it waits for the client it holds none.
//
// It also lets an idle connection wait on a shallow stack. coder/websocket's
// Reader returns only with a data message: it handles the control frames
// (the pongs of Options.PingInterval's pings, say) and goes on waiting for
// the next frame deep in its calls, which takes a goroutine a 4 KiB stack.
// So a new reader goroutine first waits in waitIdle, and when Reader, past
// a control frame, asks for a frame that has not come, Read hands it a
// frame of its own instead, an empty binary message (masked, as a client's
// must be), which Reader returns and the reader drops; then the reader goes
// on on a new goroutine (conn.read says why), which waits in waitIdle on
// 2 KiB. A quiet socket is pinged, so it soon waits there. (After a data
// message the reader waits in Reader, as it would without lendingConn: a
// socket in use would otherwise have its reader's stack shrunk at each GC
// and grown again at its next message.) A frame is made up only
// between frames, only inside the reader's Reader (between messages: never
// in a fragmented message's), and never once a close began (coder/websocket
// then reads the client's close itself). Read gives coder/websocket's
// bufio.Reader no byte past the end of the frame it is in, so that between
// frames nothing is left in it.
type lendingConn struct {
	net.Conn
	fw frameWriter // coder/websocket's bufio.Writer writes to it

	// mu serializes the reads: coder/websocket's, under its read lock, and
	// waitIdle's, outside it. It is held while a read waits.
	mu       sync.Mutex
	r        *rawio.LentReader
	scan     frameScan // the frames Read has given
	fake     int       // how many bytes of fakeFrame are still to give
	faked    bool      // a frame was made up since takeFaked
	control  bool      // the last frame given whole was a control frame
	inReader atomic.Bool
	closing  atomic.Bool // a close began: coder/websocket reads the rest
}

// fakeFrame is the frame Read makes up: FIN, binary, masked (a zero key),
// empty.
const fakeFrame = "\x82\x80\x00\x00\x00\x00"

// lending returns conn as a lendingConn, with what br holds still to be
// read, or nil if it cannot be one (no Buffers, or no syscall.RawConn: a
// TLS connection).
func lending(conn net.Conn, lend *Buffers, br *bufio.Reader) *lendingConn {
	sc, ok := conn.(syscall.Conn)
	if lend == nil || !ok {
		return nil
	}
	// What the client sent before it saw the 101, if anything: frames.
	first, _ := br.Peek(br.Buffered())
	r, err := rawio.NewLentReader(sc, conn.LocalAddr().Network(), &lend.l, bytes.Clone(first))
	if err != nil {
		return nil
	}
	return &lendingConn{Conn: conn, r: r, fw: frameWriter{w: conn, lend: &lend.l}}
}

func (c *lendingConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.control && c.fake == 0 && c.scan.between() && c.r.Buffered() == 0 && c.inReader.Load() && !c.closing.Load() {
		if ok, err := c.r.Fill(false); err == nil && !ok {
			c.fake, c.faked, c.control = len(fakeFrame), true, false
		}
	}
	if c.fake > 0 {
		n := copy(p, fakeFrame[len(fakeFrame)-c.fake:])
		c.fake -= n
		return n, nil
	}
	if rest := c.scan.rest(); int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.scan.advance(p[:n])
	if n > 0 && c.scan.between() {
		c.control = c.scan.hdr[0]&0x08 != 0 // the opcode of the frame that ended
	}
	return n, err
}

// waitIdle waits, between messages, until the client sends something,
// unless something is there or a close began; what it sees is left to
// Read's caller (an error too: Read meets it again).
func (c *lendingConn) waitIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scan.between() && !c.closing.Load() {
		c.r.Fill(true)
	}
}

// reading marks the reader's Reader call: in it, and only in it, Read may
// make up a frame.
func (c *lendingConn) reading(in bool) { c.inReader.Store(in) }

// takeFaked reports whether Read made up a frame since the last call: the
// message Reader returned is that frame's.
func (c *lendingConn) takeFaked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.faked
	c.faked = false
	return f
}
