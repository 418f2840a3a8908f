package gunicorn

import (
	"errors"
	"strings"
)

// ArgsEnv is the environment variable that holds flags, as gunicorn's of
// that name: they come after the command line's and before GOWSGI_* and
// the config file.
const ArgsEnv = "GUNICORN_CMD_ARGS"

// SplitArgs splits s into words as a POSIX shell does, and as Python's
// shlex.split, with which gunicorn splits ArgsEnv: blanks separate words;
// 'single quotes' keep everything; "double quotes" keep everything but a
// backslash before " or \; a backslash outside quotes keeps the character
// after it. An unclosed quote or a trailing backslash is an error.
func SplitArgs(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
			continue
		case c == '\\':
			if i+1 == len(s) {
				return nil, errors.New("no character after the last backslash")
			}
			i++
			w.WriteByte(s[i])
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("no closing quotation (')")
			}
			w.WriteString(s[i+1 : i+1+j])
			i += 1 + j
		case c == '"':
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				w.WriteByte(s[i])
			}
			if !closed {
				return nil, errors.New(`no closing quotation (")`)
			}
		default:
			w.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}
