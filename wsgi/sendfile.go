package wsgi

import (
	"io"
	"math"
	"os"
	"strconv"
	"syscall"
)

// procFD is where Linux shows this process's descriptors as files.
const procFD = "/proc/self/fd/"

// fileFrom returns a reader of f from offset off, and a func that releases
// it, for the File frames of wsgi.file_wrapper.
//
// f's descriptor came from the worker and shares its file position with
// the app's file object, which the app may go on using after its response:
// nothing here may move that position. sendfile(2), which net/http uses for
// an *os.File, sends from the position of its descriptor and moves it, so
// the file is opened again through /proc, as a description of Go's own.
// If that fails, the file is read with pread(2), which moves nothing.
func fileFrom(f *os.File, off int64) (io.Reader, func()) {
	return fileVia(procFD, f, off)
}

func fileVia(dir string, f *os.File, off int64) (io.Reader, func()) {
	fd, err := syscall.Open(dir+strconv.Itoa(int(f.Fd())), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err == nil {
		own := os.NewFile(uintptr(fd), f.Name())
		if off == 0 {
			return own, func() { own.Close() }
		}
		if _, err = own.Seek(off, io.SeekStart); err == nil {
			return own, func() { own.Close() }
		}
		own.Close()
	}
	return io.NewSectionReader(f, off, math.MaxInt64-off), func() {}
}
