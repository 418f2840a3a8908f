package worker

import (
	"fmt"
	"strconv"
	"strings"
)

// CPUsFor is the CPU set of worker id when each worker is pinned to n
// CPUs: n consecutive CPUs of allowed, counted round-robin by id, so that
// worker 0 takes allowed[0:n], worker 1 allowed[n:2n], and so on around.
// It is nil (no pinning) when n is 0 or allowed is empty, and all of
// allowed when n is as many or more.
func CPUsFor(id, n int, allowed []int) []int {
	if n <= 0 || len(allowed) == 0 {
		return nil
	}
	if n >= len(allowed) {
		return append([]int(nil), allowed...)
	}
	cpus := make([]int, n)
	for j := range cpus {
		cpus[j] = allowed[(id*n+j)%len(allowed)]
	}
	return cpus
}

// formatCPUs writes cpus as the kernel's lists do ("0,2,3"), for logs.
func formatCPUs(cpus []int) string {
	s := make([]string, len(cpus))
	for i, c := range cpus {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, ",")
}

// pin sets the CPU affinity of every thread of the process to p.cpus, if
// any. It runs once the worker is ready, while its threads start: the
// main thread first, so that every thread it starts from then on
// inherits the set, then the threads there are, again until no new one
// appears (a thread started by another before that one was pinned).
func (p *Process) pin() error {
	if len(p.cpus) == 0 {
		return nil
	}
	pid := p.PID()
	if err := setAffinity(pid, p.cpus); err != nil {
		return fmt.Errorf("worker %d: pin to CPUs %s: %w", p.ID, formatCPUs(p.cpus), err)
	}
	done := map[int]bool{pid: true}
	for range 10 {
		tids, err := threadsOf(pid)
		if err != nil {
			return fmt.Errorf("worker %d: pin to CPUs %s: %w", p.ID, formatCPUs(p.cpus), err)
		}
		fresh := 0
		for _, tid := range tids {
			if done[tid] {
				continue
			}
			fresh++
			done[tid] = true
			// A thread that has ended since the listing is no error.
			_ = setAffinity(tid, p.cpus)
		}
		if fresh == 0 {
			return nil
		}
	}
	return nil
}
