package frame

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func frames(parts ...any) []byte {
	var b []byte
	for i := 0; i < len(parts); i += 2 {
		t, p := parts[i].(Type), parts[i+1].(string)
		b = append(AppendHeader(b, t, len(p)), p...)
	}
	return b
}

func TestReader(t *testing.T) {
	big := strings.Repeat("x", 100000) // larger than the read buffer
	in := frames(Start, "meta", Data, "hello", Data, big, End, "")
	r := NewReader(bytes.NewReader(in), 4096)
	var out bytes.Buffer
	for _, want := range []Type{Start, Data, Data, End} {
		typ, n, err := r.Next()
		if err != nil || typ != want {
			t.Fatalf("Next: %v %v, want %v", typ, err, want)
		}
		switch typ {
		case Data:
			if err := r.Copy(&out, n); err != nil {
				t.Fatal(err)
			}
		default:
			p, err := r.Meta(typ, n)
			if err != nil {
				t.Fatal(err)
			}
			if typ == Start && string(p) != "meta" {
				t.Errorf("meta %q", p)
			}
		}
	}
	if out.String() != "hello"+big {
		t.Errorf("copied %d bytes, want %d", out.Len(), 5+len(big))
	}
	if _, _, err := r.Next(); err != io.EOF {
		t.Errorf("at the end: %v, want io.EOF", err)
	}
}

func TestReaderBroken(t *testing.T) {
	cases := map[string]struct {
		in   []byte
		meta bool
	}{
		"truncated header":  {[]byte{'S', 1, 0}, false},
		"truncated payload": {frames(Start, "abcdef")[:8], true},
		"oversized meta":    {AppendHeader(nil, Start, MaxMeta+1), true},
		"huge length":       {[]byte{'D', 0xff, 0xff, 0xff, 0xff}, false},
	}
	for name, tc := range cases {
		r := NewReader(bytes.NewReader(tc.in), 4096)
		typ, n, err := r.Next()
		if err == nil && tc.meta {
			_, err = r.Meta(typ, n)
		}
		if err == nil || err == io.EOF {
			t.Errorf("%s: err %v, want a specific error", name, err)
		}
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, errors.New("client gone") }

func TestCopyWriteError(t *testing.T) {
	in := frames(Data, strings.Repeat("y", 10000), End, "")
	r := NewReader(bytes.NewReader(in), 1024)
	_, n, _ := r.Next()
	err := r.Copy(failWriter{}, n)
	var we *WriteError
	if !errors.As(err, &we) {
		t.Fatalf("Copy: %v, want a *WriteError", err)
	}
	// The payload was consumed all the same: the next frame reads.
	if typ, _, err := r.Next(); typ != End || err != nil {
		t.Errorf("after a failed Copy: %v %v", typ, err)
	}
}

// pieces is a reader that returns one of its pieces per Read, as a socket
// returns what has arrived.
type pieces [][]byte

func (p *pieces) Read(b []byte) (int, error) {
	if len(*p) == 0 {
		return 0, io.EOF
	}
	n := copy(b, (*p)[0])
	if (*p)[0] = (*p)[0][n:]; len((*p)[0]) == 0 {
		*p = (*p)[1:]
	}
	return n, nil
}

func TestAppendData(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      [][]byte // as the reads return it
		follows bool     // DataFollows after the first Next
		max     int
		want    string // what AppendData appends then
		next    Type   // the frame Next reads after that
	}{
		{"all buffered", [][]byte{frames(Data, "ab", Data, "cde", Data, "f", End, "")}, true, 100, "abcdef", End},
		{"up to another frame", [][]byte{frames(Data, "ab", Start, "m", Data, "c")}, false, 100, "ab", Start},
		{"up to max", [][]byte{frames(Data, "abc", Data, "def", Data, "gh")}, true, 7, "abcdef", Data},
		{"first beyond max", [][]byte{frames(Data, "abcdef", End, "")}, false, 3, "", Data},
		{"second not here whole", [][]byte{frames(Data, "ab", Data, "cdef")[:13], []byte("ef")}, true, 100, "ab", Data},
		{"second header not here whole", [][]byte{frames(Data, "ab", Data, "cdef")[:9], frames(Data, "cdef")[2:]}, false, 100, "ab", Data},
		{"first not here whole", [][]byte{frames(Data, "ab")[:6], []byte("b")}, false, 100, "", Data},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := pieces(tc.in)
			r := NewReader(&in, 4096)
			typ, n, err := r.Next()
			if err != nil || typ != Data {
				t.Fatalf("Next: %v %v", typ, err)
			}
			if got := r.DataFollows(n); got != tc.follows {
				t.Errorf("DataFollows: %v, want %v", got, tc.follows)
			}
			p, took := r.AppendData([]byte{}, n, tc.max)
			if string(p) != tc.want || took != len(tc.want) {
				t.Fatalf("AppendData: %q, took %d; want %q", p, took, tc.want)
			}
			if took == 0 {
				// Nothing was consumed: the payload is still to be read.
				var b bytes.Buffer
				if err := r.Copy(&b, n); err != nil {
					t.Fatal(err)
				}
				return
			}
			if typ, _, err := r.Next(); typ != tc.next || err != nil {
				t.Errorf("then Next: %v %v, want %v", typ, err, tc.next)
			}
		})
	}
}

// FuzzReader: whatever a worker sends, reading never panics and never
// allocates more than MaxMeta for one frame.
func FuzzReader(f *testing.F) {
	f.Add(frames(Start, "m", Data, "d", End, ""))
	f.Add([]byte{'S', 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{'D', 3, 0, 0, 0, 'a'})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := NewReader(bytes.NewReader(in), 512)
		for {
			typ, n, err := r.Next()
			if err != nil {
				return
			}
			if typ == Data {
				if _, took := r.AppendData(nil, n, 100); took == 0 {
					err = r.Copy(io.Discard, n)
				}
			} else {
				_, err = r.Meta(typ, n)
			}
			if err != nil {
				return
			}
		}
	})
}
