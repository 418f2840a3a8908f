package main

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// TestStatusPageInBrowser loads the admin status page in a real headless
// browser (Debian's chromium) from a real server under a little load,
// with a request held in flight, lets the page's script run, and checks
// that the numbers it rendered into the DOM agree with /metrics: the
// requests over the window, p50 and p99 within the /metrics bucket they
// fall in, the busy threads, each worker's memory; and that without
// JavaScript the page shows the tables alone. The app runs on
// /usr/bin/python3.
func TestStatusPageInBrowser(t *testing.T) {
	needPython(t)
	chromium := needChromium(t)
	dir := t.TempDir()
	// /hold waits long enough for three browsers on a busy machine, and
	// --timeout lets it.
	c := startCLI(t, []string{"SYNC_DIR=" + dir, "HOLD_TIMEOUT=120"}, "serve", "-b", "127.0.0.1:0", "--python", debianPython,
		"--chdir", "testdata", "-w", "2", "--threads", "2", "--timeout", "120", "--admin", "127.0.0.1:0", "ops:hold")
	_, admin, _ := strings.Cut(c.WaitLine("admin listening"), "addr=")
	admin = "http://" + admin + "/"
	addr := "http://" + c.Addr()

	// A little load: 4 clients, 30 requests each.
	const clients, each = 4, 30
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for range each {
				resp, err := http.Get(addr + "/")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("GET /: %d", resp.StatusCode)
				}
			}
		})
	}
	wg.Wait()
	held := make(chan int, 1)
	go func() {
		resp, err := http.Get(addr + "/hold")
		if err != nil {
			held <- 0
			return
		}
		resp.Body.Close()
		held <- resp.StatusCode
	}()
	t.Cleanup(func() {
		os.WriteFile(filepath.Join(dir, "release"), nil, 0o644)
		if code := <-held; code != 200 {
			t.Errorf("GET /hold: %d", code)
		}
	})
	waitFile(t, filepath.Join(dir, "started"))

	// Until the sampler has seen it all: every request in the window, and
	// /hold's thread busy in the newest sample.
	proctest.Eventually(t, timeout, "the samples to show the load and /hold", func() bool {
		var doc struct {
			Requests int
			Samples  []struct{ Busy int }
		}
		_, body := get(t, http.DefaultClient, admin+"status.json")
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("status.json: %v:\n%s", err, body)
		}
		n := len(doc.Samples)
		return doc.Requests == clients*each && n > 0 && doc.Samples[n-1].Busy == 1
	})

	dom := runChromium(t, chromium, true, "--virtual-time-budget=3000", "--dump-dom", admin)
	_, body := get(t, http.DefaultClient, admin+"metrics")
	m := parseMetrics(t, body)
	shown := outputs(dom)

	count := m[`gowsgi_http_request_duration_seconds_count`]
	if count != clients*each {
		t.Fatalf("/metrics counts %v requests; want %d", count, clients*each)
	}
	if got := shown["window-requests"]; got != count {
		t.Errorf("the page shows %v requests over the window; /metrics %v", got, count)
	}
	for _, q := range []struct {
		id string
		q  float64
	}{{"window-p50", 0.5}, {"window-p99", 0.99}} {
		v, ok := shown[q.id]
		lo, hi := bucketOf(m, q.q)
		if !ok || v <= lo || v > hi {
			t.Errorf("the page shows %s %v (%v); /metrics has that quantile in (%v, %v]", q.id, v, ok, lo, hi)
		}
	}
	if got, want := shown["busy"], m[`gowsgi_worker_threads{state="busy"}`]; got != want || want != 1 {
		t.Errorf("the page shows %v busy threads; /metrics %v, and /hold holds 1", got, want)
	}
	if got, want := shown["waiting"], m[`gowsgi_queue_depth`]; got != want {
		t.Errorf("the page shows %v waiting; /metrics %v", got, want)
	}
	for _, w := range []string{"0", "1"} {
		got, want := shown["worker "+w], m[`gowsgi_worker_resident_memory_bytes{worker="`+w+`"}`]
		// Memory moves between the scrapes, by less than this.
		if want == 0 || math.Abs(got-want) > want/4 {
			t.Errorf("the page shows worker %s's memory %v; /metrics %v", w, got, want)
		}
	}
	// Each chart has drawn its lines: one point per sample at least.
	for _, series := range []string{"requests/s", "p50", "p99", "waiting", "busy", "worker 0", "worker 1"} {
		re := regexp.MustCompile(`<polyline points="[^"]+"[^>]* data-series="` + regexp.QuoteMeta(series) + `" data-points="([1-9][0-9]*)"`)
		if !re.MatchString(dom) {
			t.Errorf("no line drawn for %q:\n%s", series, dom)
		}
	}
	// The tables follow: two workers, and /hold in flight.
	if !strings.Contains(dom, "GET /hold") || strings.Count(dom, "<td>ready</td>") != 2 {
		t.Errorf("the page's tables lack /hold in flight or the 2 ready workers:\n%s", dom)
	}

	// What a person sees: the charts' colours, which an empty page lacks.
	withCharts, empty := filepath.Join(t.TempDir(), "charts.png"), filepath.Join(t.TempDir(), "empty.png")
	runChromium(t, chromium, true, "--virtual-time-budget=3000", "--screenshot="+withCharts, admin)
	runChromium(t, chromium, false, "--virtual-time-budget=3000", "--screenshot="+empty, admin)
	if n := chartPixels(t, withCharts); n < 200 {
		t.Errorf("the screenshot has %d pixels of the charts' blue; want 200 at least", n)
	}
	if n := chartPixels(t, empty); n != 0 {
		t.Errorf("the screenshot without JavaScript has %d pixels of the charts' blue; want none", n)
	}

	// Without JavaScript: the tables, and no charts.
	dom = runChromium(t, chromium, false, "--virtual-time-budget=3000", "--dump-dom", admin)
	if !strings.Contains(dom, `<section id="charts" hidden="">`) || strings.Contains(dom, "<polyline") ||
		!strings.Contains(dom, "GET /hold") || strings.Count(dom, "<td>ready</td>") != 2 ||
		!strings.Contains(dom, "2 workers, 1 busy and 3 idle threads") {
		t.Errorf("without JavaScript, the page lacks its tables or shows charts:\n%s", dom)
	}
}

// needChromium returns the path of Debian's chromium, or skips the test.
func needChromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skipf("no chromium (apt-get install chromium): %v", err)
	}
	return path
}

// runChromium runs a headless chromium with args (a URL last) in a
// profile of its own, with the page's JavaScript on or off, and returns
// its standard output.
func runChromium(t *testing.T, chromium string, script bool, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	profile := t.TempDir()
	if !script {
		// The profile's setting, not --disable-javascript, which headless
		// ignores, nor --blink-settings=scriptEnabled=false, which stops
		// --dump-dom and --screenshot too.
		os.Mkdir(filepath.Join(profile, "Default"), 0o755)
		prefs := `{"profile":{"default_content_setting_values":{"javascript":2}}}`
		if err := os.WriteFile(filepath.Join(profile, "Default", "Preferences"), []byte(prefs), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--window-size=1200,1000"}
	cmd := exec.CommandContext(ctx, chromium, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// chartPixels counts the pixels of the PNG file at path that have the
// first series' colour, #1f77b4.
func chartPixels(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r>>8, 0x1f) && near(g>>8, 0x77) && near(b>>8, 0xb4) {
				n++
			}
		}
	}
	return n
}

func near(c, want uint32) bool { return c+8 >= want && c <= want+8 }

// parseMetrics reads the exposition format into its samples by name and
// labels, as written.
func parseMetrics(t *testing.T, body string) map[string]float64 {
	t.Helper()
	m := make(map[string]float64)
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}

// bucketOf is the bucket of /metrics's latency histogram that its
// q-quantile falls in.
func bucketOf(m map[string]float64, q float64) (lo, hi float64) {
	var bounds []float64
	for k := range m {
		if le, ok := strings.CutPrefix(k, `gowsgi_http_request_duration_seconds_bucket{le="`); ok {
			if b, err := strconv.ParseFloat(strings.TrimSuffix(le, `"}`), 64); err == nil && !math.IsInf(b, 0) {
				bounds = append(bounds, b)
			}
		}
	}
	sort.Float64s(bounds)
	rank := q * m["gowsgi_http_request_duration_seconds_count"]
	for _, b := range bounds {
		if m[fmt.Sprintf(`gowsgi_http_request_duration_seconds_bucket{le="%s"}`, strconv.FormatFloat(b, 'g', -1, 64))] >= rank {
			return lo, b
		}
		lo = b
	}
	return lo, math.Inf(1)
}

// outputs are the values the page rendered into its <output> elements,
// by id or series.
var outputElement = regexp.MustCompile(`<output ([^>]*)>`)
var outputAttr = regexp.MustCompile(`(id|data-series|data-value)="([^"]*)"`)

func outputs(dom string) map[string]float64 {
	shown := make(map[string]float64)
	for _, o := range outputElement.FindAllStringSubmatch(dom, -1) {
		var name, value string
		for _, a := range outputAttr.FindAllStringSubmatch(o[1], -1) {
			if a[1] == "data-value" {
				value = a[2]
			} else {
				name = a[2]
			}
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil && name != "" {
			shown[name] = v
		}
	}
	return shown
}
