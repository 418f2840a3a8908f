package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// afterBind does what gunicorn does once it listens and before its
// workers start: it sets the listen queue (--backlog), writes the --pid
// file, and drops privileges to --user and --group. The unix sockets, the
// log files and the pid file are given to that user first, so that the
// server can still reopen and remove them. The returned func removes the
// pid file, at exit.
func (o *serveOptions) afterBind(binds []bindAddr, listeners []net.Listener, log *slog.Logger) (func(), error) {
	for i, l := range listeners {
		if binds[i].network == "fd" {
			continue // an inherited socket keeps the length its owner gave it
		}
		if err := setListenBacklog(l, o.listenBacklog); err != nil {
			return nil, err
		}
	}
	uid, gid, err := lookupUserGroup(o.user, o.group)
	if err != nil {
		return nil, err
	}
	removePid := func() {}
	if o.pidFile != "" {
		if err := writePidFile(o.pidFile); err != nil {
			return nil, err
		}
		path := o.pidFile
		removePid = func() {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				log.Warn("cannot remove the pid file", "file", path, "err", err)
			}
		}
	}
	if (uid < 0 || uid == os.Getuid()) && (gid < 0 || gid == os.Getgid()) {
		return removePid, nil // nothing to drop, as gunicorn's
	}
	var files []string
	for _, b := range binds {
		if b.network == "unix" && !strings.HasPrefix(b.address, "@") {
			files = append(files, b.address) // not systemd's: its unit says whose
		}
	}
	for _, f := range []string{o.pidFile, o.errorLogFile, o.accessLogFile} {
		if f != "" && f != "-" {
			files = append(files, f)
		}
	}
	for _, f := range files {
		if err := os.Chown(f, uid, gid); err != nil {
			removePid()
			return nil, fmt.Errorf("--user/--group: giving %s to the user: %w", f, err)
		}
	}
	if err := dropPrivileges(uid, gid); err != nil {
		removePid()
		return nil, err
	}
	log.Info("dropped privileges", "uid", os.Getuid(), "gid", os.Getgid())
	return removePid, nil
}

// lookupUserGroup returns the uid of --user and the gid of --group (names
// or numbers), -1 for either that is not given. Without --group, the gid
// is --user's primary group, not root's as gunicorn keeps.
func lookupUserGroup(name, group string) (uid, gid int, err error) {
	uid, gid = -1, -1
	if name != "" {
		u, err := user.Lookup(name)
		if n, nerr := strconv.Atoi(name); err != nil && nerr == nil && n >= 0 {
			// A number, maybe with no passwd entry, as gunicorn takes.
			if u, err = user.LookupId(name); err != nil {
				u, err = &user.User{Uid: name, Gid: "-1"}, nil
			}
		}
		if err != nil {
			return 0, 0, fmt.Errorf("--user %q: %w", name, err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if n, nerr := strconv.Atoi(group); err != nil && nerr == nil && n >= 0 {
			g, err = &user.Group{Gid: group}, nil
		}
		if err != nil {
			return 0, 0, fmt.Errorf("--group %q: %w", group, err)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	return uid, gid, nil
}

// dropPrivileges sets the process's groups to gid alone, its gid and its
// uid (-1: unchanged), on every thread (Go 1.16 and later), so that the
// workers it starts run so too. The supplementary groups are dropped, which
// gunicorn leaves as they were unless --initgroups.
func dropPrivileges(uid, gid int) error {
	if gid >= 0 {
		if err := syscall.Setgroups([]int{gid}); err != nil {
			return fmt.Errorf("--group: setgroups: %w", err)
		}
		if err := syscall.Setgid(gid); err != nil {
			return fmt.Errorf("--group: setgid %d: %w", gid, err)
		}
	}
	if uid >= 0 {
		if err := syscall.Setuid(uid); err != nil {
			return fmt.Errorf("--user: setuid %d: %w", uid, err)
		}
	}
	return nil
}

// writePidFile writes this process's id to path, as gunicorn's --pid. A
// pid file that names another live process is refused: another server
// runs, or the file is stale and must be removed by hand.
func writePidFile(path string) error {
	if b, err := os.ReadFile(path); err == nil {
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err == nil && pid > 0 && pid != os.Getpid() && syscall.Kill(pid, 0) == nil {
			return fmt.Errorf("--pid %s: already running as pid %d (or the pid file is stale)", path, pid)
		}
	}
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("--pid: %w", err)
	}
	return nil
}

// setListenBacklog sets the listen queue of l to n, gunicorn's --backlog:
// Linux takes a second listen(2) on a listening socket as a new length,
// which net.Listen set to net.core.somaxconn (the kernel caps n at it).
func setListenBacklog(l net.Listener, n int) error {
	sc, ok := l.(syscall.Conn)
	if !ok || n <= 0 {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var lerr error
	if err := raw.Control(func(fd uintptr) { lerr = syscall.Listen(int(fd), n) }); err != nil {
		return err
	}
	if lerr != nil {
		return fmt.Errorf("--backlog %d: listen: %w", n, lerr)
	}
	return nil
}
