package gunicorn

import (
	"strings"
	"testing"
)

// TestWorkerClass checks gunicorn's worker classes, with and without its
// prefixes.
func TestWorkerClass(t *testing.T) {
	cases := []struct {
		class string
		want  Worker
		err   string
	}{
		{"sync", Threads, ""},
		{"gthread", Threads, ""},
		{"gunicorn.workers.gthread.ThreadWorker", Threads, ""},
		{"egg:gunicorn#sync", Threads, ""},
		{"uvicorn.workers.UvicornWorker", ASGI, ""},
		{"uvicorn_worker.UvicornWorker", ASGI, ""},
		{"gevent", Unsupported, ""},
		{"gunicorn.workers.ggevent.GeventWorker", Unsupported, ""},
		{"mypkg.Worker", 0, `"mypkg.Worker" is not a worker class gowsgi knows`},
		{"", 0, "is not a worker class"},
	}
	for _, tc := range cases {
		got, err := WorkerClass(tc.class)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("WorkerClass(%q) = %v, %v; want an error with %q", tc.class, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("WorkerClass(%q) = %v, %v; want %v", tc.class, got, err, tc.want)
		}
	}
}
