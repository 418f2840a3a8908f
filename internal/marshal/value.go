package marshal

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"unicode/utf8"
)

// AppendText appends s, which must be valid UTF-8, as a Python str of the
// code points it spells: the str of ASGI scopes and messages (a path, a
// method), unlike AppendStr's one code point per byte.
func AppendText(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			b = append(b, typeUnicode)
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			return append(b, s...)
		}
	}
	return AppendStr(b, s)
}

// AppendKey appends s, valid UTF-8, as AppendText does, but a short ASCII
// s as an interned str ('Z'): the dict keys of scopes and messages, of
// which Python then keeps one str each instead of one per dict.
func AppendKey(b []byte, s string) []byte {
	if len(s) >= 256 {
		return AppendText(b, s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return AppendText(b, s)
		}
	}
	b = append(b, typeShortIntern, byte(len(s)))
	return append(b, s...)
}

// Raw is the marshal bytes of one value, made with this package's Append
// functions: AppendValue appends them as they are (a scope built without a
// map, say).
type Raw []byte

// AppendList appends the header of a list of n items; the caller appends
// the n items after it.
func AppendList(b []byte, n int) []byte {
	b = append(b, typeList)
	return binary.LittleEndian.AppendUint32(b, uint32(n))
}

// AppendValue appends v, a Go value of one of the types that stand for the
// Python values of ASGI messages: nil (None), bool, int, int32 and int64
// (int, within 32 bits), string (str: UTF-8, as AppendText), []byte
// (bytes), Raw (as it is), Tuple and []any (tuple and list of such values), [2][]byte and
// [][2][]byte (a pair of bytes as a tuple, a header list), map[string]any
// (dict), and named map and slice types of those. Anything else, invalid UTF-8 or an int beyond 32 bits is an error
// that names it: the message is not sent.
func AppendValue(b []byte, v any) ([]byte, error) {
	return appendValue(b, v, 0)
}

func appendValue(b []byte, v any, depth int) ([]byte, error) {
	if depth > maxDepth {
		return b, fmt.Errorf("marshal: value nested deeper than %d", maxDepth)
	}
	var err error
	switch v := v.(type) {
	case nil:
		return AppendNone(b), nil
	case bool:
		return AppendBool(b, v), nil
	case int:
		return appendInt64(b, int64(v))
	case int32:
		return AppendInt(b, v), nil
	case int64:
		return appendInt64(b, v)
	case string:
		if !utf8.ValidString(v) {
			return b, fmt.Errorf("marshal: str %q is not valid UTF-8", v)
		}
		return AppendText(b, v), nil
	case []byte:
		return AppendBytes(b, v), nil
	case Raw:
		return append(b, v...), nil
	case [2][]byte:
		b = AppendTuple(b, 2)
		return AppendBytes(AppendBytes(b, v[0]), v[1]), nil
	case [][2][]byte:
		b = AppendList(b, len(v))
		for _, p := range v {
			b = AppendTuple(b, 2)
			b = AppendBytes(AppendBytes(b, p[0]), p[1])
		}
		return b, nil
	case Tuple:
		b = AppendTuple(b, len(v))
		for _, x := range v {
			if b, err = appendValue(b, x, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case []any:
		b = AppendList(b, len(v))
		for _, x := range v {
			if b, err = appendValue(b, x, depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	case map[string]any:
		b = AppendDictStart(b)
		for k, x := range v {
			if !utf8.ValidString(k) {
				return b, fmt.Errorf("marshal: key %q is not valid UTF-8", k)
			}
			b = AppendKey(b, k)
			if b, err = appendValue(b, x, depth+1); err != nil {
				return b, err
			}
		}
		return AppendDictEnd(b), nil
	}
	return appendReflect(b, v, depth)
}

// appendReflect appends a value of a named map or slice type (a package's
// own Message type, say), as its unnamed kin.
func appendReflect(b []byte, v any, depth int) ([]byte, error) {
	rv := reflect.ValueOf(v)
	var err error
	switch {
	case rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String:
		b = AppendDictStart(b)
		it := rv.MapRange()
		for it.Next() {
			k := it.Key().String()
			if !utf8.ValidString(k) {
				return b, fmt.Errorf("marshal: key %q is not valid UTF-8", k)
			}
			b = AppendKey(b, k)
			if b, err = appendValue(b, it.Value().Interface(), depth+1); err != nil {
				return b, err
			}
		}
		return AppendDictEnd(b), nil
	case rv.Kind() == reflect.Slice && rv.Type().Elem().Kind() != reflect.Uint8:
		b = AppendList(b, rv.Len())
		for i := range rv.Len() {
			if b, err = appendValue(b, rv.Index(i).Interface(), depth+1); err != nil {
				return b, err
			}
		}
		return b, nil
	}
	return b, fmt.Errorf("marshal: cannot encode a %T", v)
}

func appendInt64(b []byte, v int64) ([]byte, error) {
	if v < math.MinInt32 || v > math.MaxInt32 {
		return b, fmt.Errorf("marshal: int %d does not fit in 32 bits", v)
	}
	return AppendInt(b, int32(v)), nil
}
