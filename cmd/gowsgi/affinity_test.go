package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestCPUAffinity: with --cpu-affinity 1, each of the two workers runs on
// one CPU, not the same one, every thread of it.
func TestCPUAffinity(t *testing.T) {
	needPython(t)
	if runtime.GOOS != "linux" || runtime.NumCPU() < 2 {
		t.Skip("needs Linux and 2 CPUs")
	}
	t.Parallel()
	c := startCLI(t, nil, "serve", "-b", "127.0.0.1:0", "--python", debianPython, "--chdir", "testdata",
		"-w", "2", "--threads", "2", "--cpu-affinity", "1", "apps:hello")
	if code, _ := get(t, http.DefaultClient, "http://"+c.Addr()+"/"); code != 200 {
		t.Fatalf("GET /: %d", code)
	}
	seen := map[string]bool{}
	for _, pid := range childPIDs(c.Pid()) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/status", pid))
		cpus := map[string]bool{}
		for _, f := range tasks {
			b, err := os.ReadFile(f)
			if err != nil {
				continue // a thread that ended
			}
			for line := range strings.Lines(string(b)) {
				if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
					cpus[strings.TrimSpace(v)] = true
				}
			}
		}
		if len(cpus) != 1 {
			t.Errorf("worker %d's threads run on %v; want one CPU for all", pid, cpus)
		}
		for cpu := range cpus {
			if strings.ContainsAny(cpu, ",-") {
				t.Errorf("worker %d runs on CPUs %s; want one", pid, cpu)
			}
			seen[cpu] = true
		}
	}
	if len(seen) != 2 {
		t.Errorf("the 2 workers run on CPUs %v; want 2 different ones", seen)
	}
	c.Signal(syscall.SIGTERM)
	if status := c.Wait(); status != 0 {
		t.Errorf("exit status %d after SIGTERM; want 0", status)
	}
}
