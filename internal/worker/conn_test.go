package worker

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestSocketPairSendBuffer: the worker's end of a channel gets the larger
// send buffer, as far as net.core.wmem_max allows.
func TestSocketPairSendBuffer(t *testing.T) {
	c, theirs, err := socketPair(&Process{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	defer theirs.Close()
	got, err := syscall.GetsockoptInt(int(theirs.Fd()), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
	if err != nil {
		t.Fatal(err)
	}
	limit := workerSendBuffer
	if b, err := os.ReadFile("/proc/sys/net/core/wmem_max"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			limit = min(limit, n)
		}
	}
	// Linux reports twice what it was asked, for its bookkeeping.
	if got < 2*limit {
		t.Errorf("SO_SNDBUF %d, want at least %d", got, 2*limit)
	}
}
