package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A bindAddr is where to listen, parsed from a --bind value.
type bindAddr struct {
	network string // "tcp", "unix" or "fd"
	address string // host:port, a socket path or a file descriptor
}

func (b bindAddr) String() string {
	switch b.network {
	case "unix":
		return "unix:" + b.address
	case "fd":
		return "fd://" + b.address
	}
	return b.address
}

// defaultPort is the port of a --bind that names only a host, as gunicorn.
const defaultPort = "8000"

// parseBind parses a --bind value: HOST:PORT, :PORT, [IPv6]:PORT, HOST
// (port 8000), unix:PATH or fd://N (an inherited listening socket, as
// systemd passes).
func parseBind(s string) (bindAddr, error) {
	if fd, ok := strings.CutPrefix(s, "fd://"); ok {
		if n, err := strconv.Atoi(fd); err != nil || n < 3 {
			return bindAddr{}, fmt.Errorf("--bind %q: want fd://N, a file descriptor 3 or more", s)
		}
		return bindAddr{"fd", fd}, nil
	}
	if path, ok := strings.CutPrefix(s, "unix:"); ok {
		if path == "" {
			return bindAddr{}, fmt.Errorf("--bind %q: no socket path after unix:", s)
		}
		return bindAddr{"unix", path}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		// A host alone, maybe a bracketed or bare IPv6 address.
		host = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
		if host == "" || strings.ContainsAny(host, "[]") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
			return bindAddr{}, fmt.Errorf("--bind %q: want HOST:PORT, :PORT, [IPv6]:PORT or unix:PATH", s)
		}
		port = defaultPort
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return bindAddr{}, fmt.Errorf("--bind %q: bad port %q", s, port)
	}
	return bindAddr{"tcp", net.JoinHostPort(host, port)}, nil
}

// listen listens on b. A unix socket file left behind by a server that is
// gone is removed first; the listener removes it again when closed.
func listen(b bindAddr) (net.Listener, error) {
	if b.network == "fd" {
		return listenFD(b)
	}
	if b.network == "unix" {
		if err := removeStaleSocket(b.address); err != nil {
			return nil, err
		}
	}
	l, err := net.Listen(b.network, b.address)
	if err != nil {
		return nil, fmt.Errorf("--bind %s: %w", b, err)
	}
	return l, nil
}

// setSocketMode gives the socket file of a unix:PATH bind the mode 0777
// less umask (--umask), as gunicorn binds it under os.umask: by default
// 0777, so that a proxy running as another user (nginx as www-data) can
// connect; the directory holding it guards it. A socket systemd passed
// keeps the mode its unit gave it.
func setSocketMode(b bindAddr, umask fs.FileMode) error {
	if b.network != "unix" || strings.HasPrefix(b.address, "@") {
		return nil // not a file: TCP, inherited, or an abstract socket
	}
	if err := os.Chmod(b.address, 0o777&^umask); err != nil {
		return fmt.Errorf("--bind %s: --umask %#o: %w", b, umask, err)
	}
	return nil
}

// removeStaleSocket removes the unix socket at path if nothing listens on
// it. It refuses to remove anything that is not a socket, or a socket that
// is in use.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("--bind unix:%s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("--bind unix:%s: the file exists and is not a socket", path)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("--bind unix:%s: another server is listening there", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--bind unix:%s: removing the stale socket: %w", path, err)
	}
	return nil
}

// listenAddr names where l listens, with the port the kernel chose for :0.
func listenAddr(l net.Listener) string {
	if a, ok := l.Addr().(*net.UnixAddr); ok {
		return "unix:" + a.Name
	}
	return l.Addr().String()
}

// listenFD returns a listener on the inherited socket b names.
func listenFD(b bindAddr) (net.Listener, error) {
	fd, _ := strconv.Atoi(b.address)
	f := os.NewFile(uintptr(fd), b.String())
	if f == nil {
		return nil, fmt.Errorf("--bind %s: not an open file descriptor", b)
	}
	defer f.Close() // FileListener has its own copy
	l, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("--bind %s: not a listening socket: %w", b, err)
	}
	return l, nil
}

// listenFDsStart is the first file descriptor systemd passes.
const listenFDsStart = 3

// socketActivation returns fd://N binds for the sockets systemd passed to
// this process (LISTEN_FDS, if LISTEN_PID is this process), and unsets
// those variables, and keeps the sockets from the workers, which must not
// take them for their own.
func socketActivation() []bindAddr {
	pid, fds := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(k)
	}
	n, err := strconv.Atoi(fds)
	if pid != strconv.Itoa(os.Getpid()) || err != nil || n <= 0 {
		return nil
	}
	var binds []bindAddr
	for fd := listenFDsStart; fd < listenFDsStart+n; fd++ {
		syscall.CloseOnExec(fd)
		binds = append(binds, bindAddr{"fd", strconv.Itoa(fd)})
	}
	return binds
}
