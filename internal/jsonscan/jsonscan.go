// Package jsonscan reads and writes the little JSON that MCP messages need,
// without reflection: the fast server reads requests with it and the load
// generator's MCP driver reads replies, both on the hot path of a call,
// and the server writes strings with AppendQuoted.
//
// Reading works on bytes and finds the extent of values and the members of
// objects and elements of arrays, as slices of the input. It allocates
// nothing unless a string holds an escape (then KeyIs and String decode it,
// the slow path). Keys match exactly: encoding/json would match "METHOD" to
// "method", KeyIs does not.
//
// Input need not have passed json.Valid: the MCP driver reads untrusted
// replies as they come. Malformed input is reported, never panicked on: a
// truncated string or value, unbalanced brackets, a member without its key
// or colon end a walk with ok false, and Iter.Complete tells that apart from
// reaching the closing bracket. The scanner checks what it needs to walk
// safely, not the whole grammar: it does not check literals, numbers or
// escapes, that brackets pair by kind, or where commas go (a missing or
// extra comma between members goes unnoticed). A caller that must reject
// all invalid JSON calls json.Valid first, as the fast server does.
//
//	it, ok := jsonscan.Object(msg)
//	if !ok {
//		return errNotAnObject
//	}
//	for key, val, ok := it.Member(); ok; key, val, ok = it.Member() {
//		if jsonscan.KeyIs(key, "id") {
//			id = val
//		}
//	}
//	if !it.Complete() {
//		return errMalformed
//	}
package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/bits"
	"unicode/utf8"
)

// SkipSpace returns the index of the first byte of b at or after i that is
// not JSON white space, or len(b).
func SkipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// stringEnd returns the index just past the string whose opening quote is
// b[i], and false if the string is not closed.
func stringEnd(b []byte, i int) (int, bool) {
	j := i + 1
	// Most strings in MCP messages (keys, versions, names) are short, and
	// for them byte by byte is fastest: take the first 16 bytes so.
	for n := min(len(b), j+16); j < n; j++ {
		switch b[j] {
		case '\\':
			j++ // the escaped byte cannot end the string
		case '"':
			return j + 1, true
		}
	}
	for j < len(b) {
		if j+8 <= len(b) {
			// Most of a long string (a tool's text) is neither quote
			// nor backslash: skip it eight bytes at a time.
			m := quoteOrBackslash(binary.LittleEndian.Uint64(b[j:]))
			if m == 0 {
				j += 8
				continue
			}
			j += bits.TrailingZeros64(m) / 8
		}
		switch b[j] {
		case '"':
			return j + 1, true
		case '\\':
			j += 2 // the escaped byte cannot end the string
		default:
			j++
		}
	}
	return 0, false
}

// quoteOrBackslash marks the quotes and backslashes among the eight bytes
// of w (read little-endian): the high bit of each such byte is set in the
// result, 0 if there are none. It is the "has a zero byte" test,
// (x-0x01…)&^x&0x80…, on w xor each byte spread over all eight. A borrow
// can also mark a byte above a true mark, never below: only the lowest mark
// is sure, and that is the one used.
func quoteOrBackslash(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := w ^ ('"' * ones)
	s := w ^ ('\\' * ones)
	return ((q-ones)&^q | (s-ones)&^s) & highs
}

// ValueEnd returns the index just past the JSON value that starts at b[i],
// and false if there is none or it is cut short. A string ends at its
// closing quote, an object or array at the bracket that balances its
// opening one (brackets inside strings do not count), anything else (a
// number or literal) at the next space or structural byte.
func ValueEnd(b []byte, i int) (end int, ok bool) {
	if i < 0 || i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, ok := stringEnd(b, j)
				if !ok {
					return 0, false
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, true
				}
			}
		}
		return 0, false
	}
	j := i
	for j < len(b) && !isDelim(b[j]) {
		j++
	}
	if j == i {
		return 0, false // a value cannot start with a delimiter
	}
	return j, true
}

// isDelim reports whether c ends a number or literal.
func isDelim(c byte) bool {
	switch c {
	case ',', ':', '}', ']', '{', '[', '"', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// Trim returns the JSON value at the start of b without the space around
// it, or nil if b holds none. What follows the value is not looked at.
func Trim(b []byte) []byte {
	i := SkipSpace(b, 0)
	end, ok := ValueEnd(b, i)
	if !ok {
		return nil
	}
	return b[i:end]
}

// Iter walks the members of an object (Member) or the elements of an array
// (Elem). The slices it returns point into the input.
type Iter struct {
	b     []byte
	i     int  // where the next entry, or a comma before it, may start
	close byte // '}' or ']'
	done  bool // the closing bracket was reached
	bad   bool // the walk stopped at malformed input
}

// Object returns an iterator over the members of the object that starts v
// after any space, and false if v does not start with an object.
func Object(v []byte) (Iter, bool) { return open(v, '{', '}') }

// Array returns an iterator over the elements of the array that starts v
// after any space, and false if v does not start with an array.
func Array(v []byte) (Iter, bool) { return open(v, '[', ']') }

func open(v []byte, opening, closing byte) (Iter, bool) {
	i := SkipSpace(v, 0)
	if i >= len(v) || v[i] != opening {
		return Iter{}, false
	}
	return Iter{b: v, i: i + 1, close: closing}, true
}

// next returns the index where the next entry starts, past a comma, and
// false at the closing bracket, at the end of the input (malformed: the
// bracket is missing) or after the walk has ended.
func (it *Iter) next() (int, bool) {
	if it.done || it.bad {
		return 0, false
	}
	b := it.b
	i := SkipSpace(b, it.i)
	if i < len(b) && b[i] == ',' {
		i = SkipSpace(b, i+1)
	}
	switch {
	case i >= len(b):
		it.bad = true
		return 0, false
	case b[i] == it.close:
		it.done = true
		return 0, false
	}
	return i, true
}

// Member returns the next member of an object: its raw key (without the
// quotes, escapes kept; compare it with KeyIs) and its raw value. ok is
// false at the closing brace and at malformed input; Complete tells which.
// Of a key given twice, each member is returned: a caller that keeps the
// last one agrees with encoding/json.
func (it *Iter) Member() (key, val []byte, ok bool) {
	i, ok := it.next()
	if !ok {
		return nil, nil, false
	}
	b := it.b
	if b[i] != '"' {
		it.bad = true
		return nil, nil, false
	}
	ke, ok := stringEnd(b, i)
	if !ok {
		it.bad = true
		return nil, nil, false
	}
	key = b[i+1 : ke-1]
	i = SkipSpace(b, ke)
	if i >= len(b) || b[i] != ':' {
		it.bad = true
		return nil, nil, false
	}
	i = SkipSpace(b, i+1)
	ve, ok := ValueEnd(b, i)
	if !ok {
		it.bad = true
		return nil, nil, false
	}
	it.i = ve
	return key, b[i:ve], true
}

// Elem returns the next element of an array. ok is false at the closing
// bracket and at malformed input; Complete tells which.
func (it *Iter) Elem() (val []byte, ok bool) {
	i, ok := it.next()
	if !ok {
		return nil, false
	}
	ve, ok := ValueEnd(it.b, i)
	if !ok {
		it.bad = true
		return nil, false
	}
	it.i = ve
	return it.b[i:ve], true
}

// Complete reports whether the walk has ended at the closing bracket, with
// nothing malformed on the way.
func (it *Iter) Complete() bool { return it.done && !it.bad }

// KeyIs reports whether the raw key (as Member returns it) equals want. A
// key without escapes is compared as it is; one with escapes is decoded
// first, which allocates.
func KeyIs(raw []byte, want string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == want
	}
	s, ok := unescape(raw)
	return ok && string(s) == want
}

// String returns the contents of the JSON string v, decoded, and false if
// v is not exactly one string (or holds a bad escape). Without escapes the
// contents are a slice of v; with them, a new slice.
func String(v []byte) ([]byte, bool) {
	if len(v) == 0 || v[0] != '"' {
		return nil, false
	}
	if end, ok := stringEnd(v, 0); !ok || end != len(v) {
		return nil, false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	return unescape(inner)
}

// unescape decodes the inside of a JSON string that holds escapes. It is
// the slow path, so it leaves the work to encoding/json, and allocates.
func unescape(inner []byte) ([]byte, bool) {
	q := make([]byte, 0, len(inner)+2)
	q = append(append(append(q, '"'), inner...), '"')
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// IsNull reports whether v is absent (empty) or the literal null.
func IsNull(v []byte) bool { return len(v) == 0 || string(v) == "null" }

// IsInteger reports whether v is a JSON number without fraction or
// exponent. Leading zeros are not checked: v is assumed to be a number
// already, and the question is only whether it is a whole one.
func IsInteger(v []byte) bool {
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

// AppendQuoted appends s as a JSON string. Like encoding/json (without HTML
// escaping) it escapes quote, backslash and control characters, writes
// invalid UTF-8 as U+FFFD, and escapes U+2028 and U+2029 so that the text is
// also valid JavaScript.
func AppendQuoted[S string | []byte](dst []byte, s S) []byte {
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

// decodeRune is utf8.DecodeRune for either type AppendQuoted takes.
func decodeRune[S string | []byte](s S) (rune, int) {
	switch v := any(s).(type) {
	case string:
		return utf8.DecodeRuneInString(v)
	case []byte:
		return utf8.DecodeRune(v)
	}
	return utf8.RuneError, 1
}
