package examples

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
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
	proctest.Main(m, func(dir string) (err error) {
		gowsgiBin, err = proctest.GoBuild(dir, "github.com/gowsgi/gowsgi/cmd/gowsgi", "CGO_ENABLED=0")
		if err != nil {
			return err
		}
		mixedBin, err = proctest.GoBuild(dir, "github.com/gowsgi/gowsgi/examples/mixed")
		return err
	})
}

// needModule skips the test unless Debian's Python can import module.
func needModule(t *testing.T, module string) {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import "+module).Run(); err != nil {
		t.Skipf("%s cannot import %s (%v): install python3-%s", debianPython, module, err, module)
	}
}

// start runs bin with args from the repository root, as the README says.
// The process is killed when the test ends.
func start(t *testing.T, bin string, args ...string) *proctest.Process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = ".."
	return proctest.Start(t, cmd)
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
