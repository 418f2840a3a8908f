package rawio

import "syscall"

// recvFlags makes the kernel mark the descriptors a control message
// carries close-on-exec as it installs them, as net.UnixConn does here.
const recvFlags = syscall.MSG_CMSG_CLOEXEC

// closeOnExec has nothing left to do: recvFlags did it.
func closeOnExec(oob []byte) {}
