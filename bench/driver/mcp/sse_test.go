package mcp

import (
	"bytes"
	"reflect"
	"testing"
)

// parseAll feeds the chunks in order and returns the events, their data
// copied.
func parseAll(chunks ...[]byte) []SSEEvent {
	var got []SSEEvent
	p := SSEParser{OnEvent: func(e SSEEvent) {
		e.Data = append([]byte{}, e.Data...)
		got = append(got, e)
	}}
	for _, c := range chunks {
		p.Feed(c)
	}
	return got
}

func ev(event, id, data string) SSEEvent { return SSEEvent{Event: event, ID: id, Data: []byte(data)} }

func TestSSEParser(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []SSEEvent
	}{
		{"one message", "event: message\ndata: {\"a\":1}\n\n", []SSEEvent{ev("message", "", `{"a":1}`)}},
		{"default event type", "data: x\n\n", []SSEEvent{ev("message", "", "x")}},
		{"named event", "event: endpoint\ndata: /post?s=1\n\n", []SSEEvent{ev("endpoint", "", "/post?s=1")}},
		{"CRLF", "event: e\r\nid: 7\r\ndata: y\r\n\r\n", []SSEEvent{ev("e", "7", "y")}},
		{"CR only", "data: z\r\r", []SSEEvent{ev("message", "", "z")}},
		{"mixed endings", "data: a\r\ndata: b\rdata: c\n\r\n", []SSEEvent{ev("message", "", "a\nb\nc")}},
		{"multi-line data", "data: a\ndata: b\n\n", []SSEEvent{ev("message", "", "a\nb")}},
		{"comments and no space", ": ping\ndata:x\n:another\n\n", []SSEEvent{ev("message", "", "x")}},
		{"only one space dropped", "data:  two\n\n", []SSEEvent{ev("message", "", " two")}},
		{"field without a colon", "data\n\n", []SSEEvent{ev("message", "", "")}},
		{"empty data lines", "data\ndata\n\n", []SSEEvent{ev("message", "", "\n")}},
		{"no data, no event", "event: e\n\ndata: q\n\n", []SSEEvent{ev("message", "", "q")}},
		{"event type does not persist", "event: e\ndata: 1\n\ndata: 2\n\n", []SSEEvent{ev("e", "", "1"), ev("message", "", "2")}},
		{"unfinished event kept back", "data: a\n\ndata: b\n", []SSEEvent{ev("message", "", "a")}},
		{"id persists", "id: 1\ndata: a\n\ndata: b\n\n", []SSEEvent{ev("message", "1", "a"), ev("message", "1", "b")}},
		{"id with NUL ignored", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", []SSEEvent{ev("message", "1", "a"), ev("message", "1", "b")}},
		{"empty id resets", "id: 1\ndata: a\n\nid\ndata: b\n\n", []SSEEvent{ev("message", "1", "a"), ev("message", "", "b")}},
		{"unknown fields and retry ignored", "retry: 10\nfoo: bar\ndata: d\n\n", []SSEEvent{ev("message", "", "d")}},
		{"BOM dropped", "\xef\xbb\xbfdata: x\n\n", []SSEEvent{ev("message", "", "x")}},
		{"second BOM kept", "\xef\xbb\xbf\xef\xbb\xbfdata: x\n\n", nil},
		{"colon in value", "data: a:b\n\n", []SSEEvent{ev("message", "", "a:b")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseAll([]byte(tc.in)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q: %q, want %q", tc.in, got, tc.want)
			}
			if got := parseAll(bytesOneByOne(tc.in)...); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%q byte by byte: %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSSEParserReset(t *testing.T) {
	var got []string
	p := SSEParser{OnEvent: func(e SSEEvent) { got = append(got, e.Event+"/"+e.ID+"/"+string(e.Data)) }}
	p.Feed([]byte("id: 9\nevent: x\ndata: half"))
	p.Reset()
	p.Feed([]byte("\xef\xbb\xbfdata: new\n\n"))
	if want := []string{"message//new"}; !reflect.DeepEqual(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestSSEParserAllocs: a stream of message events costs no allocation
// once the parser has warmed up.
func TestSSEParserAllocs(t *testing.T) {
	var n int
	p := SSEParser{OnEvent: func(e SSEEvent) { n += len(e.Data) }}
	stream := []byte("event: message\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\r\ndata: \"result\":{}}\r\n\r\n")
	p.Feed(stream)
	if a := testing.AllocsPerRun(100, func() {
		p.Feed(stream[:20])
		p.Feed(stream[20:])
	}); a != 0 {
		t.Errorf("%v allocations per event", a)
	}
}

func bytesOneByOne(s string) [][]byte {
	out := make([][]byte, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = []byte{s[i]}
	}
	return out
}

// FuzzSSE: the parser never panics, and feeding a stream whole, in three
// pieces cut anywhere, or byte by byte gives the same events. The seed
// corpus is in testdata/fuzz/FuzzSSE.
func FuzzSSE(f *testing.F) {
	for _, s := range []string{"event: message\ndata: {}\n\n", "data: a\r\ndata: b\r\n\r\n", ": c\rdata:x\r\r", "id: 1\ndata\n\n", ""} {
		f.Add(s, uint(3), uint(7))
	}
	f.Fuzz(func(t *testing.T, s string, at1, at2 uint) {
		b := []byte(s)
		i := int(at1 % uint(len(b)+1))
		j := i + int(at2%uint(len(b)-i+1))
		whole := parseAll(b)
		if split := parseAll(b[:i], b[i:j], b[j:]); !reflect.DeepEqual(whole, split) {
			t.Fatalf("cut at %d and %d: %q, whole %q", i, j, split, whole)
		}
		if bytewise := parseAll(bytesOneByOne(s)...); !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("byte by byte: %q, whole %q", bytewise, whole)
		}
	})
}

func BenchmarkSSEParser(b *testing.B) {
	stream := bytes.Repeat([]byte("event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"hello\"}]}}\n\n"), 16)
	var n int
	p := SSEParser{OnEvent: func(e SSEEvent) { n += len(e.Data) }}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		p.Feed(stream)
	}
}
