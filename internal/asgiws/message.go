package asgiws

import (
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/gowsgi/gowsgi/internal/marshal"
)

// PayloadLen is the size of msg's payload as the flow-control window counts
// it: a "bytes" value's length, a "text" value's length in code points
// (Python's len of the str), a "body" value's length; 0 for other messages.
// The container counts websocket.receive with it, Serve credits what the app
// sent with it, and the worker counts the same way with len().
func PayloadLen(msg Message) int {
	n := 0
	switch v := msg["bytes"].(type) {
	case []byte:
		n += len(v)
	}
	switch v := msg["text"].(type) {
	case string:
		n += utf8.RuneCountInString(v)
	}
	switch v := msg["body"].(type) {
	case []byte:
		n += len(v)
	}
	return n
}

// msgType returns msg's "type", "" if it has none.
func msgType(msg Message) string {
	t, _ := msg["type"].(string)
	return t
}

// badMessage is an ErrBadMessage naming the message type and what is wrong.
func badMessage(msg Message, format string, args ...any) error {
	return fmt.Errorf("%w: %q: %s", ErrBadMessage, msgType(msg), fmt.Sprintf(format, args...))
}

// optString returns the str at key, def if it is missing or None.
func optString(msg Message, key, def string) (string, error) {
	switch v := msg[key].(type) {
	case nil:
		return def, nil
	case string:
		return v, nil
	default:
		return "", badMessage(msg, "%s is a %T, not a str", key, v)
	}
}

// optInt returns the int at key, def if it is missing or None.
func optInt(msg Message, key string, def int) (int, error) {
	switch v := msg[key].(type) {
	case nil:
		return def, nil
	case int:
		return v, nil
	case int64:
		return int(v), nil
	case int32:
		return int(v), nil
	default:
		return 0, badMessage(msg, "%s is a %T, not an int", key, v)
	}
}

// optBool returns the bool at key, false if it is missing or None.
func optBool(msg Message, key string) (bool, error) {
	switch v := msg[key].(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	default:
		return false, badMessage(msg, "%s is a %T, not a bool", key, v)
	}
}

// optBytes returns the bytes at key, nil if it is missing or None.
func optBytes(msg Message, key string) ([]byte, error) {
	switch v := msg[key].(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	default:
		return nil, badMessage(msg, "%s is a %T, not bytes", key, v)
	}
}

// header is one [name, value] pair of a message's "headers".
type header struct{ name, value string }

// headerList returns msg's "headers": a list of [name, value] pairs of bytes
// (a str is taken too), in order; none if the key is missing or None.
func headerList(msg Message) ([]header, error) {
	v := msg["headers"]
	if pairs, ok := v.(marshal.Pairs); ok {
		out := make([]header, len(pairs))
		for i, p := range pairs {
			out[i] = header{string(p[0]), string(p[1])}
		}
		return out, nil
	}
	if v == nil {
		return nil, nil
	}
	list, ok := sequence(v)
	if !ok {
		return nil, badMessage(msg, "headers is a %T, not a list", v)
	}
	out := make([]header, 0, len(list))
	for i, item := range list {
		pair, ok := sequence(item)
		if !ok || len(pair) != 2 {
			return nil, badMessage(msg, "headers[%d] is not a [name, value] pair", i)
		}
		name, ok1 := byteString(pair[0])
		value, ok2 := byteString(pair[1])
		if !ok1 || !ok2 {
			return nil, badMessage(msg, "headers[%d] is not a pair of bytes", i)
		}
		out = append(out, header{name, value})
	}
	return out, nil
}

// sequence returns the items of a list, tuple or any Go slice or array.
func sequence(v any) ([]any, bool) {
	if l, ok := v.([]any); ok {
		return l, true
	}
	rv := reflect.ValueOf(v)
	if k := rv.Kind(); k != reflect.Slice && k != reflect.Array || rv.Type().Elem().Kind() == reflect.Uint8 {
		return nil, false
	}
	items := make([]any, rv.Len())
	for i := range items {
		items[i] = rv.Index(i).Interface()
	}
	return items, true
}

func byteString(v any) (string, bool) {
	switch v := v.(type) {
	case []byte:
		return string(v), true
	case string:
		return v, true
	}
	return "", false
}
