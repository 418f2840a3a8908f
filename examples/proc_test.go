package examples

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// debianPython is the interpreter with Debian's Flask and Django.
const debianPython = "/usr/bin/python3"

// timeout bounds every wait in the tests.
const timeout = 30 * time.Second

// The programs the tests run, built by TestMain: the gowsgi command (without
// cgo, as it must build) and the mixed example.
var (
	gowsgiBin string
	mixedBin  string
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "gowsgi-examples-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	gowsgiBin, mixedBin = filepath.Join(dir, "gowsgi"), filepath.Join(dir, "mixed")
	for _, b := range []struct{ out, pkg, cgo string }{
		{gowsgiBin, "./cmd/gowsgi", "0"},
		{mixedBin, "./examples/mixed", ""},
	} {
		cmd := exec.Command("go", "build", "-o", b.out, b.pkg)
		cmd.Dir = ".."
		if b.cgo != "" {
			cmd.Env = append(os.Environ(), "CGO_ENABLED="+b.cgo)
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", b.pkg, err, out)
			return 1
		}
	}
	return m.Run()
}

// needModule skips the test unless Debian's Python can import module.
func needModule(t *testing.T, module string) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import "+module).Run(); err != nil {
		t.Skipf("%s cannot import %s (%v): install python3-%s", debianPython, module, err, module)
	}
}

// A proc is a running example whose stderr is collected line by line.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and stderr is read
	err  error         // from Wait, once done

	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
}

// start runs bin with args from the repository root, as the README says.
// The process is killed when the test ends.
func start(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = ".."
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, done: make(chan struct{}), changed: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
		}
		io.Copy(io.Discard, stderr)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			p.mu.Lock()
			t.Logf("%s %s stderr:\n%s", filepath.Base(bin), strings.Join(args, " "), strings.Join(p.lines, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

// addr waits for the process to log "msg=listening addr=..." and returns
// the address.
func (p *proc) addr() string {
	p.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i := 0; ; {
		p.mu.Lock()
		lines, changed := p.lines, p.changed
		p.mu.Unlock()
		for ; i < len(lines); i++ {
			if _, rest, ok := strings.Cut(lines[i], "msg=listening addr="); ok {
				addr, _, _ := strings.Cut(rest, " ")
				return addr
			}
		}
		select {
		case <-changed:
		case <-p.done:
			p.mu.Lock()
			n := len(p.lines) // final: done is closed after the last line
			p.mu.Unlock()
			if n > i {
				continue
			}
			p.t.Fatalf("exited (%v) before listening", p.err)
		case <-deadline.C:
			p.t.Fatalf("not listening within %v", timeout)
		}
	}
}

// stop sends SIGTERM and checks that the process exits 0.
func (p *proc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("did not exit within %v of SIGTERM", timeout)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		p.t.Errorf("exit status %d after SIGTERM; want 0", ee.ExitCode())
	} else if p.err != nil {
		p.t.Error(p.err)
	}
}

// A response is what a request got.
type response struct {
	code   int
	header http.Header
	body   string
}

// do sends a request with client (nil: one that does not follow redirects)
// and returns the response, read whole.
func do(t *testing.T, client *http.Client, method, url string, form url.Values) response {
	t.Helper()
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}
