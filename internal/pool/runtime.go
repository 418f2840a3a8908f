package pool

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gowsgi/gowsgi/internal/pyruntime"
	"github.com/gowsgi/gowsgi/internal/worker"
)

// runtimePrefix names the runtime's directories in os.TempDir().
const runtimePrefix = "gowsgi-runtime-"

// ownerFile, in a runtime directory, names the process that made it: its
// pid and start time, so that a reused pid is not taken for it.
const ownerFile = "owner"

// install writes the Python runtime the workers run to a new temporary
// directory, which Stop and Close remove. A server killed with SIGKILL
// removes nothing, so install first removes the directories whose owner
// has gone.
func (p *Pool) install() error {
	p.removeStale()
	dir, err := os.MkdirTemp("", runtimePrefix)
	if err != nil {
		return fmt.Errorf("pool: installing the Python runtime: %w", err)
	}
	err = os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner(os.Getpid())), 0o644)
	if err == nil {
		_, err = pyruntime.Install(dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("pool: installing the Python runtime in %s: %w", dir, err)
	}
	p.dir = dir
	return nil
}

// removeStale removes the runtime directories whose owner process has
// exited, and those without a usable owner file that are old and unused
// (unowned.go). A young one without an owner file is left alone: its owner
// may be writing it now.
func (p *Pool) removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), runtimePrefix+"*"))
	now := time.Now()
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		var pid int
		if err == nil {
			_, err = fmt.Sscan(string(b), &pid)
		}
		if err != nil || pid <= 0 {
			p.removeUnowned(dir, now)
			continue
		}
		if owner(pid) == string(b) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			p.log.Warn("cannot remove a stale Python runtime", "dir", dir, "err", err)
			continue
		}
		p.log.Info("removed the Python runtime of a server that has gone", "dir", dir, "owner", strings.TrimSpace(string(b)))
	}
}

// owner is the content of an owner file for process pid, "PID STARTTIME\n",
// or "" if pid is not running.
func owner(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// Fields after the command, which is in parentheses and may hold
	// anything: state is the 1st, start time the 20th.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 20 || fields[0] == "Z" || fields[0] == "X" {
		return ""
	}
	return strconv.Itoa(pid) + " " + fields[19] + "\n"
}

// uninstall removes the runtime once no worker runs it.
func (p *Pool) uninstall() {
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// workerConfig is how worker (or zygote) id is started.
func (p *Pool) workerConfig(id int) worker.Config {
	cfg := p.cfg.Worker
	cfg.ID = id
	cfg.RuntimeDir = p.dir
	if cfg.Logger == nil {
		cfg.Logger = p.log
	}
	return cfg
}

// spawn starts worker id, forked from the zygote with Config.Preload, and
// returns it once its app is imported.
func (p *Pool) spawn(ctx context.Context, id int) (*worker.Process, error) {
	cfg := p.workerConfig(id)
	cfg.Age = p.spawned.Add(1)
	cfg.Exited = p.cfg.Exited
	cfg.CPUs = worker.CPUsFor(id, p.cfg.CPUAffinity, p.cpus)
	if p.cfg.Preload {
		return p.fork(ctx, cfg)
	}
	return worker.Start(ctx, cfg)
}
