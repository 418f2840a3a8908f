package requestid

import (
	"strings"
	"testing"
)

func TestSane(t *testing.T) {
	for id, want := range map[string]bool{
		"abc-123":                true,
		"a_b.c:d+e=f/g@h":        true,
		strings.Repeat("x", 200): true,
		"":                       false,
		strings.Repeat("x", 201): false,
		"a b":                    false,
		"a\r\nX-Injected: 1":     false,
		"caf\xc3\xa9":            false,
		`"quoted"`:               false,
	} {
		if got := Sane(id); got != want {
			t.Errorf("Sane(%q) = %v; want %v", id, got, want)
		}
	}
}

// TestNew: new ids are sane, 32 hex digits, and differ.
func TestNew(t *testing.T) {
	a, b := New(), New()
	if len(a) != 32 || !Sane(a) || a == b {
		t.Errorf("New() = %q, then %q", a, b)
	}
}
