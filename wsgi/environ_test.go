package wsgi_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gowsgi/gowsgi/wsgi"
)

// TestEnvironWrappers checks that Environ and NewRequest are the mapping of
// internal/environ (tested there): a mounted request's environ, and back.
func TestEnvironWrappers(t *testing.T) {
	r := httptest.NewRequest("POST", "/app/x?q=1", strings.NewReader("abc"))
	env := wsgi.Environ(r, "/app")
	want := map[string]string{
		"REQUEST_METHOD": "POST", "SCRIPT_NAME": "/app", "PATH_INFO": "/x", "QUERY_STRING": "q=1",
		"CONTENT_LENGTH": "3", "SERVER_SOFTWARE": wsgi.Software,
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("Environ: %s = %q, want %q", k, env[k], v)
		}
	}
	back, err := wsgi.NewRequest(env, r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if back.Method != "POST" || back.URL.Path != "/app/x" || back.URL.RawQuery != "q=1" || back.ContentLength != 3 {
		t.Errorf("NewRequest(Environ(r)) = %s %s?%s (%d bytes), want POST /app/x?q=1 (3 bytes)",
			back.Method, back.URL.Path, back.URL.RawQuery, back.ContentLength)
	}
	if _, err := wsgi.NewRequest(map[string]string{}, nil); err == nil || !strings.Contains(err.Error(), "REQUEST_METHOD") {
		t.Errorf("NewRequest of an empty environ: error %v, want one naming REQUEST_METHOD", err)
	}
}
