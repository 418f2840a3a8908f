package worker

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// pair returns a rightsReader on one end of a socket pair, and the other
// end as a worker would hold it.
func pair(t *testing.T) (*rightsReader, int) {
	t.Helper()
	fds, err := socketpair()
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fds[0]), "ours")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := newRightsReader(nc.(*net.UnixConn))
	t.Cleanup(func() {
		nc.Close()
		r.reset()
		syscall.Close(fds[1])
	})
	return r, fds[1]
}

// openFiles opens files named after their content, "0", "1", ...
func openFiles(t *testing.T, n int) []int {
	t.Helper()
	dir := t.TempDir()
	var fds []int
	for i := range n {
		path := filepath.Join(dir, strconv.Itoa(i))
		if err := os.WriteFile(path, []byte(strconv.Itoa(i)), 0o644); err != nil {
			t.Fatal(err)
		}
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(fd) })
		fds = append(fds, fd)
	}
	return fds
}

// TestRightsReader sends messages as the worker does, some with
// descriptors, reads them all, and takes the descriptors in order.
func TestRightsReader(t *testing.T) {
	for _, tc := range []struct {
		name  string
		msgs  []int // descriptors per message
		bytes int   // of each message
		take  int   // descriptors to take, in order, before errNoFile
		lost  bool  // ErrFileLost from the first take
	}{
		{name: "one", msgs: []int{1}, bytes: 10, take: 1},
		{name: "after plain messages", msgs: []int{0, 0, 1, 0}, bytes: 10, take: 1},
		{name: "three in a row", msgs: []int{1, 1, 1}, bytes: 10, take: 3},
		{name: "larger than the socket buffer", msgs: []int{1, 0, 1}, bytes: 300 << 10, take: 2},
		{name: "none", msgs: []int{0}, bytes: 10},
		{name: "more than the room for them", msgs: []int{8}, bytes: 10, lost: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, theirs := pair(t)
			files := openFiles(t, 8)
			next := 0
			done := make(chan error, 1)
			go func() {
				for _, n := range tc.msgs {
					var oob []byte
					if n > 0 {
						oob = syscall.UnixRights(files[next : next+n]...)
						next += n
					}
					msg := make([]byte, tc.bytes)
					for len(msg) > 0 {
						// The descriptors go with the first byte only.
						k, err := syscall.SendmsgN(theirs, msg, oob, nil, 0)
						if err != nil {
							done <- err
							return
						}
						msg, oob = msg[k:], nil
					}
				}
				done <- nil
			}()
			if _, err := io.ReadFull(r, make([]byte, len(tc.msgs)*tc.bytes)); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if tc.lost {
				if _, err := r.take(); err != ErrFileLost {
					t.Fatalf("take: %v, want ErrFileLost", err)
				}
				r.reset()
				if _, err := r.take(); err != errNoFile {
					t.Errorf("take after reset: %v, want errNoFile", err)
				}
				return
			}
			for i := range tc.take {
				f, err := r.take()
				if err != nil {
					t.Fatalf("take %d: %v", i, err)
				}
				b, err := io.ReadAll(f)
				f.Close()
				if string(b) != strconv.Itoa(i) || err != nil {
					t.Errorf("take %d: the file of %q, %v", i, b, err)
				}
			}
			if _, err := r.take(); err != errNoFile {
				t.Errorf("last take: %v, want errNoFile", err)
			}
		})
	}
}

// TestRightsReaderReset closes what no File frame took.
func TestRightsReaderReset(t *testing.T) {
	r, theirs := pair(t)
	files := openFiles(t, 2)
	before := countFDs(t)
	for _, fd := range files {
		if err := syscall.Sendmsg(theirs, []byte("x"), syscall.UnixRights(fd), nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.ReadFull(r, make([]byte, 2)); err != nil {
		t.Fatal(err)
	}
	if got := countFDs(t); got != before+2 {
		t.Fatalf("%d descriptors open after receiving 2, %d before", got, before)
	}
	r.reset()
	if got := countFDs(t); got != before {
		t.Errorf("%d descriptors open after reset, %d before", got, before)
	}
}

// TestRightsReaderDeadline: a failed read reports no bytes, which
// bufio.Reader insists on.
func TestRightsReaderDeadline(t *testing.T) {
	r, _ := pair(t)
	r.nc.SetReadDeadline(time.Now().Add(-time.Second))
	n, err := r.Read(make([]byte, 10))
	if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Read: %d, %v; want 0 and a deadline error", n, err)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
