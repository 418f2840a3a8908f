//go:build !linux

package worker

import (
	"errors"
	"runtime"
)

// errNoAffinity: outside Linux, a process's threads cannot be pinned
// from another process.
var errNoAffinity = errors.New("CPU affinity is supported on Linux only, not " + runtime.GOOS)

// AllowedCPUs fails outside Linux.
func AllowedCPUs() ([]int, error) { return nil, errNoAffinity }

func setAffinity(tid int, cpus []int) error { return errNoAffinity }

func threadsOf(pid int) ([]int, error) { return nil, errNoAffinity }
