package rawio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// unixPair returns our end of a Unix stream socket pair as a *net.UnixConn
// and its FD, and the other end as a *net.UnixConn.
func unixPair(t *testing.T) (*net.UnixConn, *FD, *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fds[0]) // not SOCK_CLOEXEC, which macOS lacks
	syscall.CloseOnExec(fds[1])
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	ours, theirs := conn(fds[0]), conn(fds[1])
	raw, err := New(ours, "unix")
	if err != nil {
		t.Fatal(err)
	}
	return ours, raw, theirs
}

// tcpPair returns a connected loopback TCP pair, ours with its FD.
func tcpPair(t *testing.T) (*net.TCPConn, *FD, net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	theirs, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { theirs.Close() })
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	raw, err := New(c.(*net.TCPConn), "tcp")
	if err != nil {
		t.Fatal(err)
	}
	return c.(*net.TCPConn), raw, theirs
}

// TestReadWrite: bytes written on one end are read on the other, both
// ways, over TCP and a Unix socket pair; a write far larger than the
// socket's buffers (so that it waits for the peer in the netpoller) comes
// out whole and in order.
func TestReadWrite(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	for _, tc := range []struct {
		name string
		pair func(*testing.T) (*FD, net.Conn)
	}{
		{"tcp", func(t *testing.T) (*FD, net.Conn) { _, r, c := tcpPair(t); return r, c }},
		{"unix", func(t *testing.T) (*FD, net.Conn) { _, r, c := unixPair(t); return r, c }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, theirs := tc.pair(t)
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(io.LimitReader(theirs, int64(len(big))))
				got <- b
			}()
			n, err := raw.Write(big)
			if err != nil || n != len(big) {
				t.Fatalf("Write: %d, %v; want %d, nil", n, err, len(big))
			}
			if b := <-got; !bytes.Equal(b, big) {
				t.Fatalf("peer read %d bytes, not the %d written", len(b), len(big))
			}
			go theirs.Write(big)
			b := make([]byte, 0, len(big))
			buf := make([]byte, 64<<10)
			for len(b) < len(big) {
				n, err := raw.Read(buf)
				if err != nil {
					t.Fatalf("Read after %d bytes: %v", len(b), err)
				}
				b = append(b, buf[:n]...)
			}
			if !bytes.Equal(b, big) {
				t.Fatal("read bytes differ from those written")
			}
		})
	}
}

// TestWritev: both buffers arrive whole and in order, empty ones are
// skipped, and the buffers are consumed as net.Buffers' WriteTo does.
func TestWritev(t *testing.T) {
	head := []byte("head:")
	body := bytes.Repeat([]byte("b"), 3<<20) // past the socket buffer
	for _, tc := range []struct {
		name string
		bufs [][]byte
		want []byte
	}{
		{"two", [][]byte{head, body}, append(append([]byte{}, head...), body...)},
		{"empty body", [][]byte{head, nil}, head},
		{"empty head", [][]byte{nil, body}, body},
		{"three", [][]byte{head, []byte("mid:"), head}, []byte("head:mid:head:")},
		{"none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, raw, theirs := unixPair(t)
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(io.LimitReader(theirs, int64(len(tc.want))))
				got <- b
			}()
			bufs := append([][]byte(nil), tc.bufs...)
			n, err := raw.Writev(bufs)
			if err != nil || n != int64(len(tc.want)) {
				t.Fatalf("Writev: %d, %v; want %d, nil", n, err, len(tc.want))
			}
			if b := <-got; !bytes.Equal(b, tc.want) {
				t.Fatalf("peer read %.40q (%d bytes), want %.40q (%d)", b, len(b), tc.want, len(tc.want))
			}
		})
	}
}

// TestReadMsgRights: ReadMsg returns a message's bytes and the descriptor
// passed with it, close-on-exec as ReadMsgUnix installs it.
func TestReadMsgRights(t *testing.T) {
	_, raw, theirs := unixPair(t)
	f, err := os.CreateTemp(t.TempDir(), "file")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, _, err := theirs.WriteMsgUnix([]byte("frame"), syscall.UnixRights(int(f.Fd())), nil); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 64)
	oob := make([]byte, syscall.CmsgSpace(4))
	n, oobn, flags, err := raw.ReadMsg(p, oob)
	if err != nil || string(p[:n]) != "frame" || flags&syscall.MSG_CTRUNC != 0 {
		t.Fatalf("ReadMsg: %q, flags %#x, %v; want \"frame\", no MSG_CTRUNC", p[:n], flags, err)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v; want one", msgs, err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights %v, %v; want one descriptor", fds, err)
	}
	defer syscall.Close(fds[0])
	fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fds[0]), syscall.F_GETFD, 0)
	if errno != 0 || fl&syscall.FD_CLOEXEC == 0 {
		t.Errorf("descriptor flags %#x (%v), want FD_CLOEXEC", fl, errno)
	}
	// A message without rights: oobn is 0.
	theirs.Write([]byte("plain"))
	n, oobn, _, err = raw.ReadMsg(p, oob)
	if err != nil || string(p[:n]) != "plain" || oobn != 0 {
		t.Fatalf("ReadMsg: %q, oobn %d, %v; want \"plain\", 0", p[:n], oobn, err)
	}
}

// TestErrors: a read waits in the netpoller, so the net.Conn's deadline,
// Close and the peer's close end it as they end the net.Conn's own reads,
// with the errors callers look for.
func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		do    func(ours, theirs net.Conn) // before or during the read
		check func(error) bool
		want  string
	}{
		{"deadline", func(ours, _ net.Conn) { ours.SetReadDeadline(time.Now().Add(10 * time.Millisecond)) },
			func(err error) bool {
				var ne net.Error
				return errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout()
			}, "os.ErrDeadlineExceeded, a net.Error that is a Timeout"},
		{"peer closed", func(_, theirs net.Conn) { theirs.Close() },
			func(err error) bool { return err == io.EOF }, "io.EOF"},
		{"closed", func(ours, _ net.Conn) { go ours.Close() }, // before or during the read
			func(err error) bool { return errors.Is(err, net.ErrClosed) }, "net.ErrClosed"},
	} {
		for _, op := range []string{"Read", "ReadMsg"} {
			t.Run(tc.name+"/"+op, func(t *testing.T) {
				ours, raw, theirs := unixPair(t)
				tc.do(ours, theirs)
				p := make([]byte, 16)
				var err error
				if op == "Read" {
					_, err = raw.Read(p)
				} else {
					_, _, _, err = raw.ReadMsg(p, make([]byte, 64))
				}
				if !tc.check(err) {
					t.Fatalf("%s: %v (%T), want %s", op, err, err, tc.want)
				}
				var oe *net.OpError
				if tc.want != "io.EOF" && (!errors.As(err, &oe) || oe.Op != "read") {
					t.Errorf("%s: %v, want a *net.OpError of Op \"read\"", op, err)
				}
			})
		}
	}
}

// TestWriteClosed: a write after the peer has gone fails with EPIPE, as
// the net.Conn's does, and one on a closed FD with net.ErrClosed.
func TestWriteClosed(t *testing.T) {
	ours, raw, theirs := unixPair(t)
	theirs.Close()
	if _, err := raw.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
		t.Errorf("Write to a closed peer: %v, want EPIPE", err)
	}
	ours.Close()
	if _, err := raw.Writev([][]byte{[]byte("x")}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Writev after Close: %v, want net.ErrClosed", err)
	}
}

// TestOpErrorAllocs: renaming the RawConn's *net.OpError (net/http's
// aborted background read, once per request) costs the copy only; one
// wrapped deeper is still found.
func TestOpErrorAllocs(t *testing.T) {
	f := &FD{net: "tcp"}
	raw := &net.OpError{Op: "raw-read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	if n := testing.AllocsPerRun(100, func() { f.opError("read", raw) }); n != 1 {
		t.Errorf("opError of a *net.OpError: %v allocations, want 1", n)
	}
	err := f.opError("read", fmt.Errorf("wrapped: %w", raw))
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("opError of a wrapped *net.OpError = %v, want it renamed read", err)
	}
}

// countingLender lends 64-byte buffers and counts those out; each Return
// is signalled on returned.
type countingLender struct {
	out      atomic.Int64
	returned chan struct{}
}

func (l *countingLender) Lend() []byte { l.out.Add(1); return make([]byte, 64) }

func (l *countingLender) Return(b []byte) {
	if len(b) != 64 {
		panic("Return of a buffer Lend did not give")
	}
	l.out.Add(-1)
	select {
	case l.returned <- struct{}{}:
	default:
	}
}

// TestLentReader: a LentReader gives its first bytes, then, finding nothing
// to read, returns its buffer before it waits; the bytes that then come are
// read into a lent buffer, returned once all of them were taken. At the
// peer's close it returns io.EOF with no buffer out.
func TestLentReader(t *testing.T) {
	ours, _, theirs := tcpPair(t)
	l := &countingLender{returned: make(chan struct{}, 1)}
	r, err := NewLentReader(ours, "tcp", l, []byte("ab"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(n int) chan string {
		ch := make(chan string, 1)
		go func() {
			p := make([]byte, n)
			k, err := r.Read(p)
			ch <- fmt.Sprintf("%q %v", p[:k], err)
		}()
		return ch
	}
	expect := func(ch chan string, want string, out int64) {
		t.Helper()
		if got := <-ch; got != want || l.out.Load() != out {
			t.Fatalf("Read = %s with %d buffers out; want %s, %d", got, l.out.Load(), want, out)
		}
	}
	expect(read(1), `"a" <nil>`, 0)
	expect(read(8), `"b" <nil>`, 0)
	ch := read(3)
	select {
	case <-l.returned: // it found nothing: it waits now, or is about to
	case <-time.After(10 * time.Second):
		t.Fatal("a read that waits kept its buffer")
	}
	if n := l.out.Load(); n != 0 {
		t.Fatalf("%d buffers lent to a read that waits", n)
	}
	if _, err := theirs.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	expect(ch, `"hel" <nil>`, 1) // "lo" is still in the lent buffer
	expect(read(8), `"lo" <nil>`, 0)
	theirs.Close()
	expect(read(8), `"" EOF`, 0)
}

// TestLentReaderDeadline: a deadline ends a LentReader's Read that waits
// with os.ErrDeadlineExceeded, and no buffer out.
func TestLentReaderDeadline(t *testing.T) {
	ours, _, _ := tcpPair(t)
	l := &countingLender{returned: make(chan struct{}, 1)}
	r, err := NewLentReader(ours, "tcp", l, nil)
	if err != nil {
		t.Fatal(err)
	}
	ours.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	n, err := r.Read(make([]byte, 8))
	if !errors.Is(err, os.ErrDeadlineExceeded) || n != 0 || l.out.Load() != 0 {
		t.Fatalf("Read past its deadline = %d, %v with %d buffers out; want 0, os.ErrDeadlineExceeded, 0", n, err, l.out.Load())
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" || oe.Net != "tcp" {
		t.Errorf("Read's error %v is not a read tcp *net.OpError", err)
	}
}

// TestLentReaderFill: Fill without waiting reports that nothing is there,
// with no buffer out; once bytes came it reads them, Buffered counts them,
// and a second Fill reads nothing more.
func TestLentReaderFill(t *testing.T) {
	ours, _, theirs := tcpPair(t)
	l := &countingLender{returned: make(chan struct{}, 1)}
	r, err := NewLentReader(ours, "tcp", l, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Fill(false); ok || err != nil || l.out.Load() != 0 {
		t.Fatalf("Fill(false) on a quiet socket = %v, %v with %d buffers out; want false, nil, 0", ok, err, l.out.Load())
	}
	if _, err := theirs.Write([]byte("hey")); err != nil {
		t.Fatal(err)
	}
	if ok, err := r.Fill(true); !ok || err != nil || r.Buffered() != 3 || l.out.Load() != 1 {
		t.Fatalf("Fill(true) = %v, %v, %d buffered, %d buffers out; want true, nil, 3, 1", ok, err, r.Buffered(), l.out.Load())
	}
	if ok, err := r.Fill(false); !ok || err != nil || r.Buffered() != 3 {
		t.Fatalf("Fill(false) with bytes buffered = %v, %v, %d buffered; want true, nil, 3", ok, err, r.Buffered())
	}
	p := make([]byte, 8)
	if n, err := r.Read(p); string(p[:n]) != "hey" || err != nil || l.out.Load() != 0 {
		t.Fatalf("Read = %q, %v with %d buffers out; want \"hey\", nil, 0", p[:n], err, l.out.Load())
	}
}
