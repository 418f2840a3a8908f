//go:build !linux

package worker

import "syscall"

// sysProcAttr puts a worker in its own process group, as on Linux. There is
// no Pdeathsig outside Linux: a worker whose server died (even by SIGKILL)
// exits when it next reads its channel, which is closed, so a worker
// stuck in the app outlives the server until the app returns.
//
// Outside Linux (macOS, for the wheels) gowsgi is built, not tested.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// socketpair makes a connected pair of Unix stream sockets, close-on-exec.
// Without SOCK_CLOEXEC the flag is set after, under ForkLock, so that no
// process started meanwhile inherits them.
func socketpair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return fds, err
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	return fds, nil
}
