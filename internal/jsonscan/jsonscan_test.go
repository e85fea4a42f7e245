package jsonscan

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestMembers checks the member reader against encoding/json on an object
// with unique keys, spaces everywhere and brackets inside strings.
func TestMembers(t *testing.T) {
	obj := []byte(` { "a" : [1, {"x":"]}"}], "b\"c":"d\\\"", "e":{"f":null} ,"g":-1.5e3, "h":true } `)
	want := map[string]string{"a": `[1, {"x":"]}"}]`, `b\"c`: `"d\\\""`, "e": `{"f":null}`, "g": "-1.5e3", "h": "true"}
	it, ok := Object(obj)
	if !ok {
		t.Fatal("not an object")
	}
	n := 0
	for k, v, ok := it.Member(); ok; k, v, ok = it.Member() {
		n++
		if want[string(k)] != string(v) {
			t.Errorf("member %s = %s, want %s", k, v, want[string(k)])
		}
	}
	if n != len(want) {
		t.Errorf("%d members, want %d", n, len(want))
	}
	if !it.Complete() {
		t.Error("walk not complete")
	}
	if _, _, ok := it.Member(); ok || !it.Complete() {
		t.Error("a finished walk goes on")
	}
	if got := Trim(obj); string(got) != strings.TrimSpace(string(obj)) {
		t.Errorf("Trim = %s", got)
	}
}

func TestElems(t *testing.T) {
	it, ok := Array([]byte(` [ 1 , "a,]" ,{"b":[2]}, [], null ] `))
	if !ok {
		t.Fatal("not an array")
	}
	var got []string
	for v, ok := it.Elem(); ok; v, ok = it.Elem() {
		got = append(got, string(v))
	}
	if want := []string{"1", `"a,]"`, `{"b":[2]}`, "[]", "null"}; strings.Join(got, " ") != strings.Join(want, " ") || !it.Complete() {
		t.Errorf("elements %q (complete %v), want %q", got, it.Complete(), want)
	}
	if it, ok := Array([]byte("[]")); !ok {
		t.Error("[] is not an array")
	} else if _, ok := it.Elem(); ok || !it.Complete() {
		t.Error("[] has an element")
	}
	for _, s := range []string{"", " ", "{}", `"[]"`, "1"} {
		if _, ok := Array([]byte(s)); ok {
			t.Errorf("Array(%q) ok", s)
		}
		if _, ok := Object([]byte(s)); ok && s != "{}" {
			t.Errorf("Object(%q) ok", s)
		}
	}
}

// TestMalformed: a walk over broken input stops without panicking and
// reports that it did not reach the closing bracket.
func TestMalformed(t *testing.T) {
	for _, s := range []string{
		`{`, `{"a":1`, `{"a":1,`, `{"a":"x`, `{"a`, `{"a"`, `{"a":`, `{"a":}`, `{"a" 1}`, `{1:2}`,
		`{"a":[1,2}`, `{"a":{"b":1}`, `{"a":"\`, `{"a":"\"}`, `{"a":1]`, `{"a":tru`, `{:1}`, `{"a"::1}`,
		`{"a":,}`, `{"a":"x"]`, `{"a":[1,"]"}`,
	} {
		it, ok := Object([]byte(s))
		if !ok {
			t.Fatalf("Object(%q) not ok", s)
		}
		for _, _, ok := it.Member(); ok; _, _, ok = it.Member() {
		}
		if it.Complete() {
			t.Errorf("walk over %q complete", s)
		}
	}
	for _, s := range []string{`[`, `[1`, `[1,`, `["a`, `[}`, `[1}`, `[{]`} {
		it, _ := Array([]byte(s))
		for _, ok := it.Elem(); ok; _, ok = it.Elem() {
		}
		if it.Complete() {
			t.Errorf("walk over %q complete", s)
		}
	}
	var zero Iter
	if _, _, ok := zero.Member(); ok || zero.Complete() {
		t.Error("the zero Iter walks")
	}
}

// TestStringEnd checks the word-at-a-time string scan against the plain
// byte loop, with a quote or backslash at every place in strings short and
// long, next to bytes that differ from them by one bit.
func TestStringEnd(t *testing.T) {
	slow := func(b []byte) (int, bool) {
		for j := 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, true
			}
		}
		return 0, false
	}
	fill := []byte{'a', '#', '!', 0xa2, 0xdc, ']', 0x80, 0xff, 0x00, '\\' ^ 1, '"' ^ 0x80}
	for n := 0; n < 48; n++ {
		for _, special := range []string{`"`, `\\`, `\"`, `\\"`, `\`} {
			for at := 0; at <= n; at++ {
				b := []byte{'"'}
				for k := 0; k < n; k++ {
					b = append(b, fill[(k+n)%len(fill)])
				}
				b = append(b[:1+at], append([]byte(special), b[1+at:]...)...)
				for _, tail := range []string{"", `"`, `x"`} {
					in := append(b[:len(b):len(b)], tail...)
					end, ok := stringEnd(in, 0)
					wantEnd, wantOK := slow(in)
					if end != wantEnd || ok != wantOK {
						t.Fatalf("stringEnd(%q) = %d, %v; want %d, %v", in, end, ok, wantEnd, wantOK)
					}
				}
			}
		}
	}
}

func TestValueEnd(t *testing.T) {
	for _, tc := range []struct {
		in   string
		i    int
		end  int
		okay bool
	}{
		{`"a\"b" x`, 0, 6, true},
		{`{"a":"}"} x`, 0, 9, true},
		{`[[],{}]`, 0, 7, true},
		{`-1.5e3,`, 0, 6, true},
		{`true}`, 0, 4, true},
		{`x null `, 2, 6, true},
		{`null`, 4, 0, false},
		{`null`, -1, 0, false},
		{`"abc`, 0, 0, false},
		{`"abc\"`, 0, 0, false},
		{`[1,[2]`, 0, 0, false},
		{`}`, 0, 0, false},
		{`,`, 0, 0, false},
		{` 1`, 0, 0, false},
	} {
		end, ok := ValueEnd([]byte(tc.in), tc.i)
		if end != tc.end || ok != tc.okay {
			t.Errorf("ValueEnd(%q, %d) = %d, %v; want %d, %v", tc.in, tc.i, end, ok, tc.end, tc.okay)
		}
	}
	if Trim([]byte("  ")) != nil || Trim([]byte(` "x`)) != nil {
		t.Error("Trim of no value")
	}
}

func TestStrings(t *testing.T) {
	if !KeyIs([]byte(`\u006d\u0065thod`), "method") || KeyIs([]byte("Method"), "method") || !KeyIs([]byte("id"), "id") {
		t.Error("KeyIs")
	}
	if KeyIs([]byte(`\x`), `\x`) {
		t.Error("KeyIs matched a bad escape")
	}
	for in, want := range map[string]string{`"2.0"`: "2.0", `""`: "", `"a\nb\u00e9"`: "a\nb\u00e9", `"\\"`: `\`} {
		if got, ok := String([]byte(in)); !ok || string(got) != want {
			t.Errorf("String(%s) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{``, `"`, `2`, `null`, `"a"b"`, `"a\"`, `"\x"`, `"a" `} {
		if got, ok := String([]byte(in)); ok {
			t.Errorf("String(%s) = %q, ok", in, got)
		}
	}
	for in, want := range map[string]bool{"0": true, "-12": true, "1.0": false, "1e3": false, "-": false, "": false, `"1"`: false, "null": false} {
		if IsInteger([]byte(in)) != want {
			t.Errorf("IsInteger(%s) = %v", in, !want)
		}
	}
	if !IsNull(nil) || !IsNull([]byte("null")) || IsNull([]byte(`"null"`)) || IsNull([]byte("0")) {
		t.Error("IsNull")
	}
}

// TestAllocs: walking an object, keys and strings without escapes, and
// writing a string into a buffer with room allocate nothing.
func TestAllocs(t *testing.T) {
	msg := []byte(`{"jsonrpc":"2.0","id":12345,"result":{"content":[{"type":"text","text":"hello"}],"isError":false}}`)
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		it, _ := Object(msg)
		found := 0
		for k, v, ok := it.Member(); ok; k, v, ok = it.Member() {
			if KeyIs(k, "jsonrpc") {
				if s, ok := String(v); ok && string(s) == "2.0" {
					found++
				}
			}
			if KeyIs(k, "result") {
				r, _ := Object(v)
				for _, _, ok := r.Member(); ok; _, _, ok = r.Member() {
					found++
				}
			}
		}
		if found != 3 || !it.Complete() {
			t.Fatal("misread")
		}
		buf = AppendQuoted(buf[:0], "hello \"world\"\n")
	})
	if n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func TestAppendQuoted(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " backslash \ slash /`, "\x00\x01\x1f\x7f", "\b\f\n\r\t",
		"é世界🙂", "\u2028\u2029", "bad \xff utf8 \xc3", "<html>&amp;", strings.Repeat("ab\n", 100),
	} {
		got := AppendQuoted(nil, s)
		if !json.Valid(got) {
			t.Fatalf("AppendQuoted(%q) = %s: not JSON", s, got)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if !utf8.ValidString(s) {
			// encoding/json replaces each bad byte; so do we.
			want = string([]rune(s))
		}
		if back != want {
			t.Errorf("AppendQuoted(%q) reads back as %q, want %q", s, back, want)
		}
		if b := AppendQuoted(nil, []byte(s)); string(b) != string(got) {
			t.Errorf("string and []byte forms differ: %s vs %s", got, b)
		}
		if in, ok := String(got); !ok || string(in) != back {
			t.Errorf("String(%s) = %q, %v; want %q", got, in, ok, back)
		}
	}
}

func FuzzAppendQuoted(f *testing.F) {
	f.Add("hello\n\"x\"\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		got := AppendQuoted(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("AppendQuoted(%q) = %s: %v", s, got, err)
		}
		if back != string([]rune(s)) {
			t.Fatalf("AppendQuoted(%q) reads back as %q", s, back)
		}
	})
}

// FuzzScan: any input is walked, objects and arrays within it too, without
// a panic; and on input json.Valid accepts, the walk sees what encoding/json
// sees: the same keys with the same raw values (the last of a repeated key),
// the same elements, and every walk complete.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		` { "a" : [1, {"x":"]}"}], "b\"c":"d\\\"", "e":{"f":null} ,"g":-1.5e3, "h":true } `,
		`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"hi"}],"isError":true}}`,
		`{"id":1,"id":2,"\u0069d":3,"result":{"a":[1,{"b":"}"}]}}`,
		`{"a":"\\"}`, `{"a":"\"}`, `{"a":[1,2}`, `{"a":1]`, `{"a":tru`, `[1,[2,{"c":[]}]]`,
		`{"\u00e9":"é","\ud83d\ude00":0}`, "{\"\xff\":1}", `[`, `{`, `"`, ``, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		valid := json.Valid(b)
		walk(t, b, valid)
		Trim(b)
		String(b)
		IsInteger(b)
		for i := -1; i <= len(b); i++ {
			if end, ok := ValueEnd(b, i); ok && (end <= i || end > len(b)) {
				t.Fatalf("ValueEnd(%q, %d) = %d", b, i, end)
			}
		}
	})
}

// walk walks the value at the start of b and the values in it. When valid
// (b is one JSON value json.Valid accepts) it checks the walk against
// encoding/json.
func walk(t *testing.T, b []byte, valid bool) {
	v := Trim(b)
	if valid && v == nil {
		t.Fatalf("Trim(%q): no value", b)
	}
	if it, ok := Object(v); ok {
		got := map[string][]byte{}
		for k, val, ok := it.Member(); ok; k, val, ok = it.Member() {
			walk(t, val, valid)
			if !valid {
				continue
			}
			var key string
			if err := json.Unmarshal([]byte(`"`+string(k)+`"`), &key); err != nil {
				t.Fatalf("key %q: %v", k, err)
			}
			if utf8.Valid(k) && !KeyIs(k, key) {
				t.Fatalf("KeyIs(%q, %q) false", k, key)
			}
			got[key] = val
		}
		if !valid {
			return
		}
		if !it.Complete() {
			t.Fatalf("walk over %q not complete", v)
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal(v, &want); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d keys, encoding/json %d, in %q", len(got), len(want), v)
		}
		for k, w := range want {
			if g, ok := got[k]; !ok || string(g) != string(w) {
				t.Fatalf("key %q: %q, encoding/json %q, in %q", k, g, w, v)
			}
		}
		return
	}
	if it, ok := Array(v); ok {
		var got [][]byte
		for val, ok := it.Elem(); ok; val, ok = it.Elem() {
			walk(t, val, valid)
			got = append(got, val)
		}
		if !valid {
			return
		}
		var want []json.RawMessage
		if err := json.Unmarshal(v, &want); err != nil {
			t.Fatal(err)
		}
		if !it.Complete() || len(got) != len(want) {
			t.Fatalf("%d elements (complete %v), encoding/json %d, in %q", len(got), it.Complete(), len(want), v)
		}
		for i := range want {
			if string(got[i]) != string(want[i]) {
				t.Fatalf("element %d: %q, encoding/json %q", i, got[i], want[i])
			}
		}
		return
	}
	if s, ok := String(v); ok && valid {
		var want string
		if err := json.Unmarshal(v, &want); err != nil || (utf8.Valid(v) && string(s) != want) {
			t.Fatalf("String(%q) = %q, encoding/json %q (%v)", v, s, want, err)
		}
	}
}

// BenchmarkReply walks a tools/call reply as the MCP driver does, with a
// short text and with a 4 KiB one (skipping long strings is most of the
// work there).
func BenchmarkReply(b *testing.B) {
	for _, n := range []int{5, 4096} {
		msg := []byte(`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"` +
			strings.Repeat("x", n) + `"}],"isError":false}}`)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				var id, result, isError []byte
				it, ok := Object(msg)
				for k, v, ok := it.Member(); ok; k, v, ok = it.Member() {
					// Not a switch: go1.26.8's compiler crashes on a
					// tagless switch with calls directly in a b.Loop body.
					if KeyIs(k, "id") {
						id = v
					} else if KeyIs(k, "result") {
						result = v
					}
				}
				r, rok := Object(result)
				for k, v, ok := r.Member(); ok; k, v, ok = r.Member() {
					if KeyIs(k, "isError") {
						isError = v
					}
				}
				if !ok || !rok || !it.Complete() || !r.Complete() || string(id) != "7" || string(isError) != "false" {
					b.Fatal("misread")
				}
			}
		})
	}
}
