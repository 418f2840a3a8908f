package worker

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// forkRunner is a worker forked by a zygote: the zygote, its parent, waits
// for it and reports how it ended (Zygote's control loop calls exited).
type forkRunner struct {
	p     *Process
	child int
}

func (r forkRunner) pid() int { return r.child }

func (r forkRunner) signal(sig os.Signal) error {
	select {
	case <-r.p.done:
		// Reaped: the pid may already name another process.
		return os.ErrProcessDone
	default:
	}
	s, ok := sig.(syscall.Signal)
	if !ok {
		return fmt.Errorf("worker %d: cannot send %v", r.p.ID, sig)
	}
	return syscall.Kill(r.child, s)
}

// waitString says how a process ended from its wait status, in the words
// of os.ProcessState.String: "exit status 1", "signal: killed".
func waitString(ws syscall.WaitStatus) string {
	var s string
	switch {
	case ws.Exited():
		s = "exit status " + strconv.Itoa(ws.ExitStatus())
	case ws.Signaled():
		s = "signal: " + ws.Signal().String()
	case ws.Stopped():
		s = "stop signal: " + ws.StopSignal().String()
	default:
		s = fmt.Sprintf("wait status %#x", uint32(ws))
	}
	if ws.CoreDump() {
		s += " (core dumped)"
	}
	return s
}

// orphanExit is the Exit of a forked worker that outlived its zygote: only
// a parent learns the status.
const orphanExit = "exited after its zygote (status unknown)"

// sysPidfdOpen is pidfd_open(2), Linux 5.3; package syscall lacks it.
const sysPidfdOpen = 434

// orphanPoll is how often an orphan is looked for where pidfds are missing.
const orphanPoll = 200 * time.Millisecond

// watchOrphan waits for a forked worker whose zygote has gone, so that
// nobody will report its end: a pidfd becomes readable when it exits.
func (p *Process) watchOrphan() {
	pid := p.PID()
	fd, _, errno := syscall.Syscall(sysPidfdOpen, uintptr(pid), 0, 0)
	switch {
	case errno == syscall.ESRCH:
		p.exited(orphanExit)
		return
	case errno != 0:
		p.pollOrphan(pid)
		return
	}
	syscall.SetNonblock(int(fd), true) // so that the runtime poller waits on it
	f := os.NewFile(fd, "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		p.pollOrphan(pid)
		return
	}
	waited := false
	err = rc.Read(func(uintptr) bool {
		done := waited
		waited = true
		return done
	})
	if err != nil {
		p.pollOrphan(pid)
		return
	}
	p.exited(orphanExit)
}

// pollOrphan waits for pid to be gone or a zombie, looking every orphanPoll.
func (p *Process) pollOrphan(pid int) {
	for {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil || zombie(b) {
			p.exited(orphanExit)
			return
		}
		time.Sleep(orphanPoll)
	}
}

// zombie reports whether a /proc/PID/stat line is a process that ended.
func zombie(stat []byte) bool {
	for i := len(stat) - 1; i > 0; i-- {
		if stat[i] == ')' && i+2 < len(stat) {
			return stat[i+2] == 'Z' || stat[i+2] == 'X'
		}
	}
	return false
}
