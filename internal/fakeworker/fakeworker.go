// Package fakeworker is a Go stand-in for the Python worker, for tests: a
// test binary re-runs itself as the worker (as net/http/cgi's tests do) and
// plays a scripted part, well-behaved or hostile, on the real channel.
//
//	func TestMain(m *testing.M) {
//		fakeworker.Main() // returns unless this process is a fake worker
//		os.Exit(m.Run())
//	}
//
// The part is the app name the worker is started with (the second argument
// after -c's program): see Main.
package fakeworker

import (
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/gowsgi/gowsgi/internal/frame"
	"github.com/gowsgi/gowsgi/internal/marshal"
	"github.com/gowsgi/gowsgi/internal/pyruntime"
)

// EnvVar marks a process as a fake worker.
const EnvVar = "GOWSGI_FAKE_WORKER"

// Env returns the environment that makes the test binary a fake worker.
func Env() []string { return append(os.Environ(), EnvVar+"=1") }

// Main plays a worker and exits, if EnvVar is set; else it returns. Its
// parts, by app name:
//
//	hello      answer every request "200 OK" with body "fake"
//	loaderror  fail to load the app, as Python does, and exit 4
//	crash      get ready, then exit 1 at once
//	garbage    answer every request with bytes that are no frame
//	giant      answer with a Start frame that claims 2 GiB
//	unknown    answer with a frame of an unknown type
//	silent     read requests and never answer
//	loadonce   as hello if the file $GOWSGI_FAKE_ONCE does not exist, which
//	           it creates; else as loaderror (an app whose import fails
//	           after a deploy), once the file $GOWSGI_FAKE_FAIL_AFTER
//	           exists if that is set
func Main() {
	if os.Getenv(EnvVar) == "" {
		return
	}
	// Arguments as the container gives them: -c PROGRAM DIR APP ...
	part := ""
	if len(os.Args) > 4 {
		part = os.Args[4]
	}
	ch := os.NewFile(3, "channel")
	if part == "loadonce" {
		part = loadOnce()
	}
	switch part {
	case "loaderror":
		text := "Traceback (most recent call last):\nImportError: fake\n"
		ch.Write(append(frame.AppendHeader(nil, frame.LoadError, len(text)), text...))
		os.Exit(pyruntime.LoadErrorStatus)
	}
	ready(ch)
	if part == "crash" {
		os.Exit(1)
	}
	serve(ch, part)
	os.Exit(0)
}

// loadOnce is the part a "loadonce" worker plays: "hello" the first time,
// "loaderror" after, once it may.
func loadOnce() string {
	f, err := os.OpenFile(os.Getenv("GOWSGI_FAKE_ONCE"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err == nil {
		f.Close()
		return "hello"
	}
	if gate := os.Getenv("GOWSGI_FAKE_FAIL_AFTER"); gate != "" {
		// The test says when: a child process has nothing better to wait
		// on than polling for the file.
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			if _, err := os.Stat(gate); err == nil {
				break
			}
		}
	}
	return "loaderror"
}

func ready(ch *os.File) {
	var m []byte
	m = marshal.AppendDictStart(m)
	m = marshal.AppendInt(marshal.AppendStr(m, "pid"), int32(os.Getpid()))
	m = marshal.AppendStr(marshal.AppendStr(m, "version"), "0.0-fake")
	m = marshal.AppendDictEnd(m)
	ch.Write(append(frame.AppendHeader(nil, frame.Ready, len(m)), m...))
}

func serve(ch *os.File, part string) {
	r := frame.NewReader(ch, 64<<10)
	for {
		t, n, err := r.Next()
		if err != nil {
			return
		}
		if err := r.Discard(n); err != nil {
			return
		}
		if t != frame.Request {
			continue
		}
		switch part {
		case "garbage":
			ch.Write([]byte(strings.Repeat("this is not a frame ", 10)))
		case "giant":
			ch.Write(frame.AppendHeader(nil, frame.Start, 1<<31-1))
		case "unknown":
			ch.Write(frame.AppendHeader(nil, frame.Type('?'), 0))
		case "file-first":
			fileFirst(ch)
		case "silent":
			time.Sleep(time.Hour)
		default:
			ch.Write(hello())
		}
	}
}

// fileFirst sends a File frame, with a descriptor, and End: a response
// with no Start.
func fileFirst(ch *os.File) {
	f, err := os.Open(os.Args[0])
	if err != nil {
		return
	}
	defer f.Close()
	meta := marshal.AppendInt(nil, 0)
	b := append(frame.AppendHeader(nil, frame.File, len(meta)), meta...)
	b = frame.AppendHeader(b, frame.End, 0)
	syscall.Sendmsg(int(ch.Fd()), b, syscall.UnixRights(int(f.Fd())), nil, 0)
}

func hello() []byte {
	var m []byte
	m = marshal.AppendTuple(m, 2)
	m = marshal.AppendStr(m, "200 OK")
	m = append(m, '[', 0, 0, 0, 0) // an empty list of headers
	b := append(frame.AppendHeader(nil, frame.Start, len(m)), m...)
	b = append(frame.AppendHeader(b, frame.Data, 4), "fake"...)
	return frame.AppendHeader(b, frame.End, 0)
}
