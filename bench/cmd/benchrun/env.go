package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// runEnv is what every cell needs to know about this run.
type runEnv struct {
	root     string // repository root
	bench    string // root/bench
	apps     string // root/bench/apps
	tmp      string // scratch, removed at the end
	static   string // the static app's file
	postLua  string
	gowsgi   string // built binary, or ""
	gohello  string // the Go-native server (bench/cmd/gohello), or ""
	gowsgiNo string // why gowsgi is not available
	prebuilt bool   // gowsgi came from -gowsgi, not from this checkout
	duration time.Duration
	asgi     asgiEnv
}

// findRoot walks up from the working directory to the directory holding
// bench/apps, so the harness runs from anywhere inside the repository.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if exists(filepath.Join(dir, "bench", "apps", "hello.py")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no bench/apps above the working directory")
		}
		dir = parent
	}
}

// output runs a short command and returns its trimmed output, or "?".
func output(ctx context.Context, dir string, argv ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	out, _ := cmd.CombinedOutput()
	s := strings.TrimSpace(string(out))
	if s == "" {
		return "?"
	}
	return s
}

// goBuild builds a package of this module into the scratch directory.
func goBuild(ctx context.Context, env *runEnv, pkg, name string) (string, error) {
	bin := filepath.Join(env.tmp, name)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = env.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v: %.300s", pkg, err, out)
	}
	return bin, nil
}

// machine describes the box and its load, for RESULTS.md.
func machine(ctx context.Context) string {
	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("nproc %s, %s, kernel %s", output(ctx, "", "nproc"), cpu, output(ctx, "", "uname", "-r"))
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// versions lists every contender's and tool's version.
func versions(ctx context.Context, env *runEnv) string {
	py := output(ctx, "", python, "-c", `import importlib.metadata as m, sys
def v(p):
    try:
        return p + " " + m.version(p)
    except m.PackageNotFoundError:
        return p + " not installed"
print("Python " + sys.version.split()[0], *map(v, ("gunicorn", "waitress", "tornado", "Flask", "Django",
    "uvicorn", "uvloop", "httptools", "websockets", "hypercorn", "daphne", "fastapi", "pydantic")), sep=", ")`)
	wrkV := strings.SplitN(output(ctx, "", "wrk", "-v"), "\n", 2)[0]
	commit := output(ctx, env.root, "git", "rev-parse", "--short", "HEAD")
	if output(ctx, env.root, "git", "status", "--porcelain") != "?" {
		commit += " (with uncommitted changes)"
	}
	if env.prebuilt {
		commit = "a prebuilt binary (-gowsgi); checkout at " + commit
	}
	return fmt.Sprintf("%s; uWSGI %s; %s; %s; gowsgi at %s",
		py, output(ctx, "", "uwsgi", "--version"), wrkV, output(ctx, "", "go", "version"), commit)
}
