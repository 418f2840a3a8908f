//go:build !linux

package rawio

import "syscall"

// recvFlags is none: only Linux (and a few BSDs) has MSG_CMSG_CLOEXEC, so
// closeOnExec marks the received descriptors afterwards, as the net
// package's ReadMsgUnix does on macOS.
const recvFlags = 0

// closeOnExec marks every descriptor in oob's SCM_RIGHTS messages
// close-on-exec, so that a process started meanwhile does not inherit them.
func closeOnExec(oob []byte) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for i := range msgs {
		fds, err := syscall.ParseUnixRights(&msgs[i])
		if err != nil {
			continue
		}
		for _, fd := range fds {
			syscall.CloseOnExec(fd)
		}
	}
}
