package gunicorn

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestSettings checks the table's own rules: a setting, a flag and an
// alias each once; a flag for what gowsgi supports, maps or refuses (but
// config and wsgi_app, the file and the app).
func TestSettings(t *testing.T) {
	names, flags := make(map[string]bool), make(map[string]bool)
	for _, s := range Settings() {
		if names[s.Name] {
			t.Errorf("setting %s twice", s.Name)
		}
		names[s.Name] = true
		for _, f := range []string{s.Flag, s.Alias} {
			if f != "" && flags[f] {
				t.Errorf("flag %s twice", f)
			}
			flags[f] = true
		}
		if s.Alias != "" && s.Flag == "" {
			t.Errorf("%s: an alias, %s, without a flag", s.Name, s.Alias)
		}
		if s.Status != Warned && s.Flag == "" && s.Name != "config" && s.Name != "wsgi_app" {
			t.Errorf("%s: %v without a flag", s.Name, s.Status)
		}
		if s.NoValue && s.Status != Warned && s.Status != Refused {
			t.Errorf("%s: NoValue is for the flags the table defines, Warned or Refused", s.Name)
		}
		if got, ok := LookupSetting(s.Name); !ok || got != s {
			t.Errorf("LookupSetting(%s) = %v, %v", s.Name, got, ok)
		}
	}
	if _, ok := LookupSetting("cores"); ok {
		t.Error("LookupSetting(cores): a gunicorn setting")
	}
	if s, _ := LookupSetting("max_requests"); !s.Sets() || s.Flag != "max-requests" {
		t.Errorf("max_requests: %+v; want it to set --max-requests", s)
	}
	for _, name := range []string{"daemon", "worker_connections", "config"} {
		if s, _ := LookupSetting(name); s.Sets() {
			t.Errorf("%s sets --%s; want nothing set", name, s.Flag)
		}
	}
	hooks := make(map[string]bool)
	for _, h := range Hooks() {
		if hooks[h.Name] {
			t.Errorf("hook %s twice", h.Name)
		}
		hooks[h.Name] = true
		if names[h.Name] {
			t.Errorf("%s: a hook and a setting", h.Name)
		}
	}
	if h, ok := LookupHook("pre_fork"); !ok || h.Runs != NotRun {
		t.Errorf("LookupHook(pre_fork) = %v, %v; want NotRun", h, ok)
	}
	if _, ok := LookupHook("helper"); ok {
		t.Error("LookupHook(helper): a hook")
	}
}

// TestREADME checks that README's table of gunicorn's settings says
// what Settings and Hooks say: each setting gowsgi supports, maps or
// refuses, and each hook, is in a row with that status; a setting warned
// of, if named, in a row that says warned.
func TestREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n| gunicorn setting (flag) | gowsgi | Status |\n")
	if !ok {
		t.Fatal(`README has no "| gunicorn setting (flag) | gowsgi | Status |" table`)
	}
	table, _, _ = strings.Cut(table, "\n\n")
	status := make(map[string]string) // a name in a row's first cell: the row's status cell
	name := regexp.MustCompile("`([a-z_]+)`")
	for _, row := range strings.Split(table, "\n")[1:] {
		cells := strings.Split(row, " | ")
		if len(cells) < 3 {
			t.Errorf("README row %q: want 3 cells", row)
			continue
		}
		for _, m := range name.FindAllStringSubmatch(cells[0], -1) {
			status[m[1]] = cells[len(cells)-1]
		}
		if strings.HasPrefix(cells[0], "| server hooks ") {
			for _, h := range strings.Fields(strings.NewReplacer("`", "", ",", "").Replace(strings.TrimPrefix(cells[0], "| server hooks "))) {
				status[h] = cells[len(cells)-1]
			}
		}
	}
	word := map[Status]string{Warned: "warned", Supported: "supported", Mapped: "mapped", Refused: "refused"}
	for _, s := range Settings() {
		got, listed := status[s.Name]
		if !listed && s.Status == Warned {
			continue // "everything else"
		}
		if !strings.Contains(got, word[s.Status]) {
			t.Errorf("README: %s is %q; want %s", s.Name, got, word[s.Status])
		}
	}
	for _, h := range Hooks() {
		want := "supported"
		if h.Runs == NotRun {
			want = "warned"
		}
		if got := status[h.Name]; !strings.Contains(got, want) {
			t.Errorf("README: hook %s is %q; want %s", h.Name, got, want)
		}
	}
}
