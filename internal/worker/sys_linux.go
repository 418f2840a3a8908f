package worker

import "syscall"

// sysProcAttr puts a worker in its own process group, so that a Ctrl-C at
// the terminal reaches the server, which then stops the workers in order;
// Pdeathsig kills it with the server, even one killed by SIGKILL: no
// orphans.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// socketpair makes a connected pair of Unix stream sockets, close-on-exec.
func socketpair() ([2]int, error) {
	return syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
}
