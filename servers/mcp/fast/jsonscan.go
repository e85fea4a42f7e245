package fast

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// This file reads and writes the little JSON the server needs without
// reflection. Reading works on text json.Valid has accepted: it finds the
// extent of values and the members of objects, and never allocates unless a
// string holds an escape. Keys match exactly (encoding/json would match
// "METHOD" to "method"). Bounds are still checked everywhere, so that a bug
// here is a wrong answer, not a panic.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the index of the first non-space byte of b at or after i.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// stringEnd returns the index just past the JSON string that opens at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

// valueEnd returns the index just past the JSON value that starts at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				j = stringEnd(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return len(b)
	}
	j := i
	for j < len(b) {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return j
		}
		j++
	}
	return j
}

// trimValue returns the one JSON value in b without surrounding space.
func trimValue(b []byte) []byte {
	i := skipSpace(b, 0)
	return b[i:valueEnd(b, i)]
}

// iter walks the members of an object or the elements of an array.
type iter struct {
	b []byte
	i int
}

// objectIter returns an iterator over the members of v, and false if v is
// not an object.
func objectIter(v []byte) (iter, bool) {
	if len(v) < 2 || v[0] != '{' {
		return iter{}, false
	}
	return iter{b: v, i: 1}, true
}

// arrayIter returns an iterator over the elements of v, and false if v is
// not an array.
func arrayIter(v []byte) (iter, bool) {
	if len(v) < 2 || v[0] != '[' {
		return iter{}, false
	}
	return iter{b: v, i: 1}, true
}

// member returns the next member's raw key (without quotes, escapes kept)
// and value, or ok false at the end.
func (it *iter) member() (key, val []byte, ok bool) {
	b := it.b
	i := skipSpace(b, it.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return nil, nil, false
	}
	ke := stringEnd(b, i)
	if ke-1 <= i || ke > len(b) {
		return nil, nil, false
	}
	key = b[i+1 : ke-1]
	i = skipSpace(b, ke)
	if i >= len(b) || b[i] != ':' {
		return nil, nil, false
	}
	i = skipSpace(b, i+1)
	ve := valueEnd(b, i)
	if ve <= i {
		return nil, nil, false
	}
	it.i = ve
	return key, b[i:ve], true
}

// elem returns the next element of an array, or ok false at the end.
func (it *iter) elem() (val []byte, ok bool) {
	b := it.b
	i := skipSpace(b, it.i)
	if i < len(b) && b[i] == ',' {
		i = skipSpace(b, i+1)
	}
	if i >= len(b) || b[i] == ']' {
		return nil, false
	}
	ve := valueEnd(b, i)
	if ve <= i {
		return nil, false
	}
	it.i = ve
	return b[i:ve], true
}

// keyIs reports whether the raw key equals want.
func keyIs(raw []byte, want string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == want
	}
	s, ok := unescape(raw)
	return ok && string(s) == want
}

// stringValue returns the contents of the JSON string v, unescaped, and
// false if v is not a string.
func stringValue(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	return unescape(inner)
}

// unescape decodes the inside of a JSON string that holds escapes. It is the
// slow path: it allocates.
func unescape(inner []byte) ([]byte, bool) {
	q := make([]byte, 0, len(inner)+2)
	q = append(append(append(q, '"'), inner...), '"')
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// isNull reports whether v is absent or the literal null.
func isNull(v []byte) bool { return len(v) == 0 || string(v) == "null" }

// isInteger reports whether v is a JSON number without fraction or exponent.
func isInteger(v []byte) bool {
	if len(v) > 0 && v[0] == '-' {
		v = v[1:]
	}
	if len(v) == 0 {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s as a JSON string. Like encoding/json (without HTML
// escaping) it escapes quote, backslash and control characters, writes
// invalid UTF-8 as U+FFFD, and escapes U+2028 and U+2029 so that the text is
// also valid JavaScript.
func appendQuoted[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := decodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func decodeRune[S string | []byte](s S) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	return utf8.RuneError, 1
}
