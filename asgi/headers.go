package asgi

import (
	"fmt"
	"strings"

	"github.com/gowsgi/gowsgi/internal/marshal"
	"github.com/gowsgi/gowsgi/internal/respcheck"
)

// addHeaders adds the [name, value] pairs of an http.response.start's
// header list, names lower-cased bytes as the worker decoded them, to hs,
// as eachHeader(v, hs.Add) would, with fewer allocations: the values share
// one string, their slices one []string (Headers.Grow), and the names
// responses mostly carry are constants.
func addHeaders(v any, hs *respcheck.Headers) error {
	if pairs, ok := v.(marshal.Pairs); ok {
		return addPairs(pairs, hs)
	}
	if v == nil {
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("headers are a %T, not a list", v)
	}
	size := 0
	for _, item := range list {
		_, value, err := headerPair(item)
		if err != nil {
			return err
		}
		size += len(value)
	}
	var values strings.Builder // what it has written, it never changes
	values.Grow(size)
	hs.Grow(len(list))
	for _, item := range list {
		name, value, _ := headerPair(item)
		off := values.Len()
		values.Write(value)
		if err := hs.Add(headerName(name), values.String()[off:]); err != nil {
			return err
		}
	}
	return nil
}

// addPairs is addHeaders for the list as the worker's decoder gives it.
func addPairs(pairs marshal.Pairs, hs *respcheck.Headers) error {
	size := 0
	for _, p := range pairs {
		size += len(p[1])
	}
	var values strings.Builder // what it has written, it never changes
	values.Grow(size)
	hs.Grow(len(pairs))
	for _, p := range pairs {
		off := values.Len()
		values.Write(p[1])
		if err := hs.Add(headerName(p[0]), values.String()[off:]); err != nil {
			return err
		}
	}
	return nil
}

// headerPair returns the name and value of a [name, value] pair.
func headerPair(item any) (name, value []byte, err error) {
	pair, ok := item.([]any)
	if !ok || len(pair) != 2 {
		return nil, nil, fmt.Errorf("header %v is not a [name, value] pair", item)
	}
	name, ok1 := pair[0].([]byte)
	value, ok2 := pair[1].([]byte)
	if !ok1 || !ok2 {
		return nil, nil, fmt.Errorf("header %v: name and value must be bytes", item)
	}
	return name, value, nil
}

// headerName returns name as a string: a constant for the names most
// responses carry (the switch compares without converting).
func headerName(name []byte) string {
	switch string(name) {
	case "content-type":
		return "content-type"
	case "content-length":
		return "content-length"
	case "cache-control":
		return "cache-control"
	case "content-encoding":
		return "content-encoding"
	case "date":
		return "date"
	case "etag":
		return "etag"
	case "last-modified":
		return "last-modified"
	case "location":
		return "location"
	case "server":
		return "server"
	case "set-cookie":
		return "set-cookie"
	case "vary":
		return "vary"
	}
	return string(name)
}
