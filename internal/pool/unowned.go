package pool

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// unownedAge is how old a runtime directory without a usable owner file
// (one from a gowsgi before owner files, or whose owner file was lost) must
// be before it is removed: a server installing its runtime writes the file
// within a moment of making the directory, so a day is never that moment.
const unownedAge = 24 * time.Hour

// removeUnowned removes dir, a runtime directory without a usable owner
// file, if it is this user's, older than unownedAge and no process uses it, and
// reports whether it did. Used means, for any process this one can see in
// /proc: its working directory is in dir, its command line names dir (a
// worker or zygote gets its runtime directory as an argument), or it
// holds a file in dir open or mapped. Without /proc nothing is removed.
func (p *Pool) removeUnowned(dir string, now time.Time) bool {
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || now.Sub(fi.ModTime()) < unownedAge {
		return false
	}
	// Another user's: not this server's to judge (its processes' open
	// files cannot be seen), nor to remove from a sticky /tmp.
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Getuid() || runtimeInUse(dir) {
		return false
	}
	if err := os.RemoveAll(dir); err != nil {
		p.log.Warn("cannot remove an old Python runtime without an owner", "dir", dir, "err", err)
		return false
	}
	p.log.Info("removed an old Python runtime without an owner, unused", "dir", dir,
		"modified", fi.ModTime().Format(time.RFC3339))
	return true
}

// runtimeInUse reports whether a process uses dir (see removeUnowned), or
// whether that cannot be known.
func runtimeInUse(dir string) bool {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	in := func(path string) bool { return path == dir || strings.HasPrefix(path, dir+"/") }
	for _, e := range procs {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		proc := filepath.Join("/proc", e.Name())
		if cwd, err := os.Readlink(filepath.Join(proc, "cwd")); err == nil && in(cwd) {
			return true
		}
		if b, err := os.ReadFile(filepath.Join(proc, "cmdline")); err == nil {
			for _, arg := range strings.Split(string(b), "\x00") {
				if in(arg) {
					return true
				}
			}
		}
		if b, err := os.ReadFile(filepath.Join(proc, "maps")); err == nil && strings.Contains(string(b), " "+dir+"/") {
			return true
		}
		fds, _ := os.ReadDir(filepath.Join(proc, "fd"))
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(proc, "fd", fd.Name())); err == nil && in(target) {
				return true
			}
		}
	}
	return false
}
