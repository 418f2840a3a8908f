package wheel

import (
	"archive/zip"
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/internal/proctest"
)

// debianPython runs scripts/mkwheel.py and makes the virtualenv: it has
// Flask (python3-flask) and venv (python3-venv); the python3 first on PATH
// may have neither.
const debianPython = "/usr/bin/python3"

// dist is the directory of the wheels TestMain built.
var dist string

func TestMain(m *testing.M) {
	proctest.Main(m, func(dir string) error {
		if _, err := os.Stat(debianPython); err != nil {
			return nil // the tests skip
		}
		dist = filepath.Join(dir, "dist")
		out, err := exec.Command("../../scripts/wheel", dist).CombinedOutput()
		if err != nil {
			return fmt.Errorf("scripts/wheel: %v\n%s", err, out)
		}
		return nil
	})
}

// A target is a wheel scripts/wheel must build.
type target struct {
	goos, goarch string
	tags         []string // platform tags, in the file name's order
	elf          elf.Machine
	macho        macho.Cpu
}

var targets = []target{
	{"linux", "amd64", []string{"manylinux_2_17_x86_64", "manylinux2014_x86_64", "musllinux_1_1_x86_64"}, elf.EM_X86_64, 0},
	{"linux", "arm64", []string{"manylinux_2_17_aarch64", "manylinux2014_aarch64", "musllinux_1_1_aarch64"}, elf.EM_AARCH64, 0},
	{"darwin", "amd64", []string{"macosx_12_0_x86_64"}, 0, macho.CpuAmd64},
	{"darwin", "arm64", []string{"macosx_12_0_arm64"}, 0, macho.CpuArm64},
}

// wheelName matches a wheel's file name: its version and platform tags.
var wheelName = regexp.MustCompile(`^gowsgi-([0-9][0-9a-z.]*)-py3-none-([a-z0-9_.]+)\.whl$`)

// wheels returns the wheels built, by platform tags.
func wheels(t *testing.T) map[string]string {
	t.Helper()
	if dist == "" {
		t.Skipf("no %s: apt-get install python3", debianPython)
	}
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	found := make(map[string]string)
	for _, e := range entries {
		m := wheelName.FindStringSubmatch(e.Name())
		if m == nil {
			t.Errorf("%s in dist/ is not a gowsgi wheel", e.Name())
			continue
		}
		found[m[2]] = filepath.Join(dist, e.Name())
	}
	return found
}

// version is the version in the name of the wheel at path.
func version(path string) string {
	return wheelName.FindStringSubmatch(filepath.Base(path))[1]
}

func TestWheels(t *testing.T) {
	found := wheels(t)
	if len(found) != len(targets) {
		t.Errorf("%d wheels, want %d: %v", len(found), len(targets), found)
	}
	versions := make(map[string]bool)
	for _, tg := range targets {
		t.Run(tg.goos+"-"+tg.goarch, func(t *testing.T) {
			path, ok := found[strings.Join(tg.tags, ".")]
			if !ok {
				t.Fatalf("no wheel tagged %s in %v", strings.Join(tg.tags, "."), found)
			}
			versions[version(path)] = true
			z, err := zip.OpenReader(path)
			if err != nil {
				t.Fatal(err)
			}
			defer z.Close()
			files := make(map[string]*zip.File)
			for _, f := range z.File {
				files[f.Name] = f
			}
			distInfo := "gowsgi-" + version(path) + ".dist-info/"
			checkRecord(t, files, distInfo+"RECORD")
			checkWheelFile(t, read(t, files, distInfo+"WHEEL"), tg.tags)
			checkMetadata(t, read(t, files, distInfo+"METADATA"), version(path))
			if ep := read(t, files, distInfo+"entry_points.txt"); !strings.Contains(ep, "[console_scripts]\ngowsgi = gowsgi.__main__:main\n") {
				t.Errorf("entry_points.txt has no gowsgi script:\n%s", ep)
			}
			for _, name := range []string{"gowsgi/__init__.py", "gowsgi/adapter.py", "gowsgi/__main__.py"} {
				if f := files[name]; f == nil || f.Mode() != 0o644 {
					t.Errorf("%s: %v, want a file of mode 0644", name, f)
				}
			}
			bin := files["gowsgi/bin/gowsgi"]
			if bin == nil || bin.Mode() != 0o755 {
				t.Fatalf("gowsgi/bin/gowsgi: %v, want a file of mode 0755", bin)
			}
			checkBinary(t, []byte(read(t, files, bin.Name)), tg)
		})
	}
	if len(versions) != 1 {
		t.Errorf("versions %v, want one for all", versions)
	}
	t.Run("twine check", func(t *testing.T) {
		if _, err := exec.LookPath("twine"); err != nil {
			t.Skip("no twine: apt-get install twine")
		}
		var paths []string
		for _, p := range found {
			paths = append(paths, p)
		}
		out, err := exec.Command("twine", append([]string{"check", "--strict"}, paths...)...).CombinedOutput()
		if err != nil || bytes.Contains(out, []byte("WARNING")) || bytes.Count(out, []byte("PASSED")) != len(paths) {
			t.Errorf("twine check: %v\n%s", err, out)
		}
	})
}

// read returns the contents of the wheel's file name.
func read(t *testing.T, files map[string]*zip.File, name string) string {
	t.Helper()
	f := files[name]
	if f == nil {
		t.Fatalf("no %s in the wheel", name)
	}
	r, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return string(b)
}

// checkRecord checks that RECORD lists every file of the wheel, itself
// without a hash and every other with its sha256 and size (PEP 376, 427).
func checkRecord(t *testing.T, files map[string]*zip.File, record string) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(read(t, files, record))).ReadAll()
	if err != nil {
		t.Fatalf("RECORD: %v", err)
	}
	listed := make(map[string]bool)
	for _, row := range rows {
		if len(row) != 3 {
			t.Errorf("RECORD row %q: want path,hash,size", row)
			continue
		}
		name, hash, size := row[0], row[1], row[2]
		listed[name] = true
		if name == record {
			if hash != "" || size != "" {
				t.Errorf("RECORD lists itself as %q", row)
			}
			continue
		}
		if files[name] == nil {
			t.Errorf("RECORD lists %s, which the wheel lacks", name)
			continue
		}
		data := read(t, files, name)
		sum := sha256.Sum256([]byte(data))
		want := "sha256=" + base64.RawURLEncoding.EncodeToString(sum[:])
		if hash != want || size != fmt.Sprint(len(data)) {
			t.Errorf("RECORD: %s,%s,%s; want %s,%d", name, hash, size, want, len(data))
		}
	}
	for name := range files {
		if !listed[name] {
			t.Errorf("RECORD does not list %s", name)
		}
	}
}

// headers returns the "Key: value" lines of an email-style header block
// (WHEEL, METADATA) up to the first blank line, and what follows it.
func headers(text string) (map[string][]string, string) {
	h := make(map[string][]string)
	sc := bufio.NewScanner(strings.NewReader(text))
	var n int
	for sc.Scan() {
		line := sc.Text()
		n += len(line) + 1
		if line == "" {
			break
		}
		k, v, _ := strings.Cut(line, ": ")
		h[k] = append(h[k], v)
	}
	return h, text[min(n, len(text)):]
}

func checkWheelFile(t *testing.T, text string, tags []string) {
	t.Helper()
	h, _ := headers(text)
	var want []string
	for _, tag := range tags {
		want = append(want, "py3-none-"+tag)
	}
	if fmt.Sprint(h["Tag"]) != fmt.Sprint(want) {
		t.Errorf("WHEEL tags %q, want %q", h["Tag"], want)
	}
	// The package holds a binary: platlib, not purelib.
	if fmt.Sprint(h["Wheel-Version"], h["Root-Is-Purelib"]) != "[1.0] [false]" {
		t.Errorf("WHEEL:\n%s", text)
	}
}

func checkMetadata(t *testing.T, text, version string) {
	t.Helper()
	h, body := headers(text)
	for key, want := range map[string]string{
		"Metadata-Version":         "2.1",
		"Name":                     "gowsgi",
		"Version":                  version,
		"Requires-Python":          ">=3.8",
		"Home-page":                "https://github.com/gowsgi/gowsgi",
		"Description-Content-Type": "text/markdown; charset=UTF-8; variant=GFM",
	} {
		if got := h[key]; len(got) != 1 || got[0] != want {
			t.Errorf("METADATA %s: %q, want %q", key, got, want)
		}
	}
	if urls := strings.Join(h["Project-URL"], "\n"); !strings.Contains(urls, "Source, https://github.com/gowsgi/gowsgi") {
		t.Errorf("METADATA Project-URL: %q", h["Project-URL"])
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := bytes.Cut(readme, []byte("\n"))
	if !strings.HasPrefix(body, string(first)+"\n") {
		t.Errorf("METADATA's description does not start as README.md (%q): %.100q", first, body)
	}
	// Links into the repository are absolute, for the package index.
	if strings.Contains(body, "](docs/") || !strings.Contains(body, "](https://github.com/gowsgi/gowsgi/blob/") {
		t.Errorf("METADATA's description has links relative to the repository")
	}
}

// checkBinary checks that b is a gowsgi executable for tg: static ELF of
// the right machine on Linux (no interpreter, no shared library: it fits
// glibc and musl alike), Mach-O of the right CPU on macOS.
func checkBinary(t *testing.T, b []byte, tg target) {
	t.Helper()
	switch tg.goos {
	case "linux":
		f, err := elf.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gowsgi/bin/gowsgi is not ELF: %v", err)
		}
		if f.Machine != tg.elf || f.Type != elf.ET_EXEC {
			t.Errorf("ELF machine %v type %v, want %v %v", f.Machine, f.Type, tg.elf, elf.ET_EXEC)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
				t.Errorf("ELF has a %v program header: not static", p.Type)
			}
		}
	case "darwin":
		f, err := macho.NewFile(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("gowsgi/bin/gowsgi is not Mach-O: %v", err)
		}
		if f.Cpu != tg.macho || f.Type != macho.TypeExec {
			t.Errorf("Mach-O CPU %v type %v, want %v %v", f.Cpu, f.Type, tg.macho, macho.TypeExec)
		}
	}
	if !bytes.Contains(b, []byte("github.com/gowsgi/gowsgi/cmd/gowsgi")) {
		t.Errorf("the binary is not cmd/gowsgi")
	}
}

// thisMachine returns the wheel that pip installs here.
func thisMachine(t *testing.T) string {
	t.Helper()
	found := wheels(t)
	for _, tg := range targets {
		if tg.goos == runtime.GOOS && tg.goarch == runtime.GOARCH {
			if p, ok := found[strings.Join(tg.tags, ".")]; ok {
				return p
			}
			t.Fatalf("no wheel for %s/%s in %v", tg.goos, tg.goarch, found)
		}
	}
	t.Skipf("no wheel for %s/%s", runtime.GOOS, runtime.GOARCH)
	return ""
}
