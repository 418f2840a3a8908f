package accesslog

import (
	"fmt"
	"os"
	"sync"
)

// A File is an access log file, appended to, that can be reopened for log
// rotation: once logrotate (or anyone) has moved the file aside, Reopen
// creates a new one at the path and the lines that follow go there, while
// the moved file keeps those written before. It is safe for concurrent
// use; each Write goes whole to one file or the other. Make one with
// OpenFile.
type File struct {
	path   string
	mu     sync.Mutex
	f      *os.File
	closed bool
}

// OpenFile opens the file at path for appending, creating it (mode 0644,
// before the umask) if it does not exist.
func OpenFile(path string) (*File, error) {
	f, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	return &File{path: path, f: f}, nil
}

func openAppend(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("accesslog: %w", err) // names the path
	}
	return f, nil
}

// Path returns the path the File was opened with.
func (f *File) Path() string { return f.path }

// Write appends p to the file open now.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f.Write(p)
}

// Reopen opens the path again, creating the file if it was moved or
// removed, writes there from then on, and closes the file it wrote to
// before. If the path cannot be opened, the File keeps writing to the file
// it has, and the error says why.
func (f *File) Reopen() error {
	next, err := openAppend(f.path)
	if err != nil {
		return err
	}
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		next.Close()
		return fmt.Errorf("accesslog: %s: reopened after Close", f.path)
	}
	old := f.f
	f.f = next
	f.mu.Unlock()
	return old.Close()
}

// Close closes the file; writes then fail, and so does Reopen.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return f.f.Close()
}
