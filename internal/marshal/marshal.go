// Package marshal reads and writes the subset of Python's marshal format
// (version 4, the default since Python 3.4, also spoken by PyPy) that the
// Go–Python channel uses.
//
// Python's marshal.loads and marshal.dumps are single C calls, so encoding a
// request's environ in this format in Go means the worker turns it into a dict
// of native strings without running a line of Python per key.
//
// Only these types are supported: None, True, False, int (32-bit), str, bytes,
// tuple, list and dict. Every multi-byte integer is little-endian.
package marshal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Type codes of the marshal format (CPython's Python/marshal.c).
const (
	typeNull        = '0'
	typeNone        = 'N'
	typeFalse       = 'F'
	typeTrue        = 'T'
	typeInt         = 'i'
	typeLong        = 'l'
	typeBytes       = 's'
	typeInterned    = 't'
	typeRef         = 'r'
	typeTuple       = '('
	typeList        = '['
	typeDict        = '{'
	typeUnicode     = 'u'
	typeASCII       = 'a'
	typeASCIIIntern = 'A'
	typeSmallTuple  = ')'
	typeShortASCII  = 'z'
	typeShortIntern = 'Z'
	flagRef         = 0x80
)

// Tuple is a decoded Python tuple; a Python list decodes to []any.
type Tuple []any

// AppendStr appends s as a Python str. Each byte of s is one code point
// (latin-1), as PEP 3333 requires of native strings built from HTTP bytes.
func AppendStr(b []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	switch {
	case ascii && len(s) < 256:
		b = append(b, typeShortASCII, byte(len(s)))
		return append(b, s...)
	case ascii:
		b = append(b, typeASCII)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
		return append(b, s...)
	}
	// Non-ASCII: marshal carries str as UTF-8, so widen each latin-1 byte.
	n := len(s)
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			n++
		}
	}
	b = append(b, typeUnicode)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	for i := 0; i < len(s); i++ {
		b = utf8.AppendRune(b, rune(s[i]))
	}
	return b
}

// AppendBytes appends p as a Python bytes object.
func AppendBytes(b, p []byte) []byte {
	return append(AppendBytesHeader(b, len(p)), p...)
}

// AppendBytesHeader appends the start of an n-byte bytes object, whose n
// bytes the caller sends next (with writev, say, rather than copying them).
func AppendBytesHeader(b []byte, n int) []byte {
	b = append(b, typeBytes)
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// AppendBool appends a Python bool.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, typeTrue)
	}
	return append(b, typeFalse)
}

// AppendInt appends a Python int that fits in 32 bits.
func AppendInt(b []byte, v int32) []byte {
	b = append(b, typeInt)
	return binary.LittleEndian.AppendUint32(b, uint32(v))
}

// AppendNone appends Python's None.
func AppendNone(b []byte) []byte { return append(b, typeNone) }

// AppendTuple appends the header of a tuple of n items; the caller appends
// the n items after it.
func AppendTuple(b []byte, n int) []byte {
	if n < 256 {
		return append(b, typeSmallTuple, byte(n))
	}
	b = append(b, typeTuple)
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// AppendDictStart opens a dict; the caller appends key, value pairs and then
// calls AppendDictEnd.
func AppendDictStart(b []byte) []byte { return append(b, typeDict) }

// AppendDictEnd closes a dict opened by AppendDictStart.
func AppendDictEnd(b []byte) []byte { return append(b, typeNull) }

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 16

// ErrTruncated reports input that ends inside a value.
var ErrTruncated = errors.New("marshal: truncated input")

// Decode decodes one value from p, which must hold exactly that value.
// str decodes to string (UTF-8), bytes to []byte (aliasing p), tuple to
// Tuple, list to []any, dict to map[any]any with string or int keys, int to
// int64, bool to bool and None to nil. It never allocates more than a small
// multiple of len(p), whatever p claims.
func Decode(p []byte) (any, error) {
	d := decoder{p: p}
	return d.whole()
}

// DecodeOwned decodes one value from p, as Decode does, into values that
// do not alias p and are shaped for ASGI messages: bytes alias one copy of
// p (one allocation for them all), a tuple decodes to []any as a list does,
// a dict to map[string]any (its keys must be str), and the strs of ASGI
// message keys and types are shared constants, not allocated per message.
//
// Its bytes copy p only once it meets a bytes value: a value without any
// costs no copy. A list of pairs of bytes (a message's "headers") decodes
// to Pairs.
func DecodeOwned(p []byte) (any, error) {
	var o OwnedDecoder
	return o.Decode(p)
}

// An OwnedDecoder is DecodeOwned for a goroutine that decodes value after
// value (a channel's reader): the table of the values Python may refer
// back to is kept between them, cleared, instead of allocated each time.
// Its zero value is ready to use; it is not safe for concurrent use.
type OwnedDecoder struct {
	refs []any
	id   int64 // Pair's first, which refs may point to
}

// Decode is DecodeOwned(p).
func (o *OwnedDecoder) Decode(p []byte) (any, error) {
	d := o.start(p)
	v, err := d.whole()
	o.end(d)
	return v, err
}

// Pair decodes a 2-tuple whose first item is an int, as Decode would,
// without the tuple: the (stream, value) payload of a channel's frame.
func (o *OwnedDecoder) Pair(p []byte) (int64, any, error) {
	var rest [1]any
	id, err := o.Tuple(p, rest[:])
	return id, rest[0], err
}

// Tuple decodes a tuple of 1+len(rest) items whose first is an int, as
// Decode would, into that int and rest, without the tuple: a channel
// frame's (stream, ...) payload.
func (o *OwnedDecoder) Tuple(p []byte, rest []any) (int64, error) {
	d := o.start(p)
	defer o.end(d)
	code, err := d.u8()
	if err != nil {
		return 0, err
	}
	if code&flagRef != 0 {
		// Nothing inside refers back to the tuple itself: a placeholder
		// keeps the numbering of those that follow.
		d.refs = append(d.refs, nil)
	}
	if code &^= flagRef; code != typeSmallTuple && code != typeTuple {
		return 0, fmt.Errorf("marshal: want an (int, ...) tuple, got type code %q", byte(code))
	}
	n, err := d.seqLen(byte(code))
	if err != nil {
		return 0, err
	}
	if n != 1+len(rest) {
		return 0, fmt.Errorf("marshal: want an (int, ...) tuple of %d items, got %d", 1+len(rest), n)
	}
	if err := d.firstInt(&o.id); err != nil {
		return 0, err
	}
	id := o.id
	for i := range rest {
		if rest[i], err = d.value(1); err != nil {
			return 0, err
		}
	}
	if d.off != len(d.p) {
		return 0, fmt.Errorf("marshal: %d trailing bytes", len(d.p)-d.off)
	}
	return id, nil
}

// firstInt decodes the int that opens a Pair into *dst. Python flags it
// for reference (a stream id is shared): it is entered in d.refs as dst,
// which deref resolves, instead of boxed, which would allocate for all but
// small ints.
func (d *decoder) firstInt(dst *int64) error {
	if d.off < len(d.p) && d.p[d.off]&^flagRef == typeInt {
		code := d.p[d.off]
		d.off++
		b, err := d.take(4)
		if err != nil {
			return err
		}
		*dst = int64(int32(binary.LittleEndian.Uint32(b)))
		if code&flagRef != 0 {
			d.refs = append(d.refs, dst)
		}
		return nil
	}
	v, err := d.value(1)
	if err != nil {
		return err
	}
	id, ok := v.(int64)
	if !ok {
		return fmt.Errorf("marshal: want a (int, value) tuple, got a %T first", v)
	}
	*dst = id
	return nil
}

func (o *OwnedDecoder) start(p []byte) *decoder {
	if o.refs == nil {
		// Python flags every str and bytes it may refer back to: a
		// message has a dozen, which would otherwise grow refs four
		// times.
		o.refs = make([]any, 0, 16)
	}
	return &decoder{p: p, owned: true, refs: o.refs[:0]}
}

// end keeps d's refs for the next value, referring to none of d's.
func (o *OwnedDecoder) end(d *decoder) {
	clear(d.refs)
	if cap(d.refs) <= maxKeptRefs {
		o.refs = d.refs[:0]
	}
}

// maxKeptRefs bounds the refs an OwnedDecoder keeps: one odd value with
// thousands need not stay resident.
const maxKeptRefs = 1024

type decoder struct {
	p      []byte
	off    int
	refs   []any
	owned  bool // DecodeOwned's: bytes copied; []any tuples, map[string]any dicts, shared strs
	copied bool // DecodeOwned's p is the copy its bytes alias
}

// whole decodes the one value d.p must hold exactly.
func (d *decoder) whole() (any, error) {
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	if d.off != len(d.p) {
		return nil, fmt.Errorf("marshal: %d trailing bytes", len(d.p)-d.off)
	}
	return v, nil
}

func (d *decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.p)-d.off {
		return nil, ErrTruncated
	}
	b := d.p[d.off : d.off+n]
	d.off += n
	return b, nil
}

func (d *decoder) u32() (int, error) {
	b, err := d.take(4)
	if err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(b)
	if v > 1<<31-1 {
		return 0, fmt.Errorf("marshal: length %d out of range", v)
	}
	return int(v), nil
}

// seqLen reads the item count of a tuple or list of type code: one byte
// for a small tuple, four for the others.
func (d *decoder) seqLen(code byte) (int, error) {
	if code == typeSmallTuple {
		return d.u8()
	}
	return d.u32()
}

func (d *decoder) u8() (int, error) {
	b, err := d.take(1)
	if err != nil {
		return 0, err
	}
	return int(b[0]), nil
}

func (d *decoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("marshal: nesting too deep")
	}
	code, err := d.u8()
	if err != nil {
		return nil, err
	}
	ref := code&flagRef != 0
	code &^= flagRef
	idx := -1
	if ref {
		idx = len(d.refs)
		d.refs = append(d.refs, nil)
	}
	v, err := d.body(byte(code), depth)
	if err != nil {
		return nil, err
	}
	if idx >= 0 {
		d.refs[idx] = v
	}
	return v, nil
}

func (d *decoder) body(code byte, depth int) (any, error) {
	switch code {
	case typeNone:
		return nil, nil
	case typeTrue:
		return true, nil
	case typeFalse:
		return false, nil
	case typeInt:
		b, err := d.take(4)
		if err != nil {
			return nil, err
		}
		return int64(int32(binary.LittleEndian.Uint32(b))), nil
	case typeLong:
		return d.long()
	case typeBytes:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		if d.owned && !d.copied {
			// The offsets are the same in the copy, and the strs decoded
			// before it were copied already.
			d.p, d.copied = bytes.Clone(d.p), true
		}
		return d.take(n)
	case typeASCII, typeASCIIIntern, typeUnicode, typeInterned:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		return d.str(n, code == typeUnicode || code == typeInterned)
	case typeShortASCII, typeShortIntern:
		n, err := d.u8()
		if err != nil {
			return nil, err
		}
		return d.str(n, false)
	case typeRef:
		n, err := d.u32()
		if err != nil {
			return nil, err
		}
		if n >= len(d.refs) || d.refs[n] == nil {
			return nil, fmt.Errorf("marshal: bad reference %d", n)
		}
		return deref(d.refs[n]), nil
	case typeTuple, typeSmallTuple, typeList:
		n, err := d.seqLen(code)
		if err != nil {
			return nil, err
		}
		// Each item takes at least one byte: a bound on what we allocate.
		if n > len(d.p)-d.off {
			return nil, ErrTruncated
		}
		if code == typeList && d.owned {
			if ps, ok := d.pairs(n); ok {
				return ps, nil
			}
		}
		items := make([]any, n)
		for i := range items {
			if items[i], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		if code == typeList || d.owned {
			return items, nil
		}
		return Tuple(items), nil
	case typeDict:
		return d.dict(depth)
	}
	return nil, fmt.Errorf("marshal: unsupported type code %q", code)
}

func (d *decoder) str(n int, utf bool) (any, error) {
	b, err := d.take(n)
	if err != nil {
		return nil, err
	}
	if !utf {
		for _, c := range b {
			if c >= 0x80 {
				return nil, errors.New("marshal: non-ASCII byte in ASCII string")
			}
		}
	}
	if d.owned {
		if c, ok := common(b); ok {
			return c, nil
		}
	}
	return string(b), nil
}

// common returns the shared string of b if it is one of the keys and
// types of the messages a worker sends: as an any made of a constant,
// which costs no allocation either.
func common(b []byte) (any, bool) {
	switch string(b) { // compiled to comparisons: no allocation
	case "type":
		return "type", true
	case "status":
		return "status", true
	case "headers":
		return "headers", true
	case "trailers":
		return "trailers", true
	case "body":
		return "body", true
	case "more_body":
		return "more_body", true
	case "more_trailers":
		return "more_trailers", true
	case "path":
		return "path", true
	case "bytes":
		return "bytes", true
	case "text":
		return "text", true
	case "code":
		return "code", true
	case "reason":
		return "reason", true
	case "subprotocol":
		return "subprotocol", true
	case "http.response.start":
		return "http.response.start", true
	case "http.response.body":
		return "http.response.body", true
	case "http.response.trailers":
		return "http.response.trailers", true
	case "http.response.pathsend":
		return "http.response.pathsend", true
	case "websocket.accept":
		return "websocket.accept", true
	case "websocket.send":
		return "websocket.send", true
	case "websocket.close":
		return "websocket.close", true
	case "websocket.http.response.start":
		return "websocket.http.response.start", true
	case "websocket.http.response.body":
		return "websocket.http.response.body", true
	}
	return nil, false
}

func (d *decoder) dict(depth int) (any, error) {
	if d.owned {
		return d.strDict(depth)
	}
	m := map[any]any{}
	for {
		if d.off < len(d.p) && d.p[d.off] == typeNull {
			d.off++
			return m, nil
		}
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		switch k.(type) {
		case string, int64:
		default:
			return nil, fmt.Errorf("marshal: unsupported dict key type %T", k)
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
}

// strDict is dict for DecodeOwned: str keys only, into a map[string]any.
func (d *decoder) strDict(depth int) (any, error) {
	m := make(map[string]any, 8) // a message's keys fit in its first group
	for {
		if d.off < len(d.p) && d.p[d.off] == typeNull {
			d.off++
			return m, nil
		}
		k, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		ks, ok := k.(string)
		if !ok {
			return nil, fmt.Errorf("marshal: dict key of type %T, not str", k)
		}
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		m[ks] = v
	}
}

// Latin1 converts a decoded str to the bytes it stands for under PEP 3333,
// where a native string carries one byte per code point. It reports false if
// s has a code point above U+00FF, which no HTTP byte can stand for.
func Latin1(s string) (string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return latin1Slow(s)
		}
	}
	return s, true
}

func latin1Slow(s string) (string, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xFF {
			return "", false
		}
		b = append(b, byte(r))
	}
	return string(b), true
}

// long decodes an int too big for 32 bits: a signed count of 15-bit digits,
// least significant first. Values beyond int64 are refused.
func (d *decoder) long() (any, error) {
	b, err := d.take(4)
	if err != nil {
		return nil, err
	}
	n := int32(binary.LittleEndian.Uint32(b))
	neg := n < 0
	if neg {
		n = -n
	}
	// Five 15-bit digits hold 63 bits, once the top one is at most 7.
	if n > 5 {
		return nil, errors.New("marshal: int out of range")
	}
	var v uint64
	for i := int32(0); i < n; i++ {
		b, err := d.take(2)
		if err != nil {
			return nil, err
		}
		digit := uint64(binary.LittleEndian.Uint16(b) & 0x7fff)
		if i == 4 && digit > 7 {
			return nil, errors.New("marshal: int out of range")
		}
		v |= digit << (15 * i)
	}
	if v > 1<<63-1 {
		return nil, errors.New("marshal: int out of range")
	}
	if neg {
		return -int64(v), nil
	}
	return int64(v), nil
}
