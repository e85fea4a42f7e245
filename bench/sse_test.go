package bench

import (
	"reflect"
	"testing"
)

func parseAll(chunks ...string) []SSEEvent {
	var got []SSEEvent
	p := SSEParser{OnEvent: func(e SSEEvent) { got = append(got, e) }}
	for _, c := range chunks {
		p.Feed([]byte(c))
	}
	return got
}

func TestSSEParser(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []SSEEvent
	}{
		{"one message", "event: message\ndata: {\"a\":1}\n\n", []SSEEvent{{"message", "", []byte(`{"a":1}`)}}},
		{"default event name", "data: x\n\n", []SSEEvent{{"message", "", []byte("x")}}},
		{"CRLF", "event: e\r\nid: 7\r\ndata: y\r\n\r\n", []SSEEvent{{"e", "7", []byte("y")}}},
		{"CR only", "data: z\r\r", []SSEEvent{{"message", "", []byte("z")}}},
		{"multi-line data", "data: a\ndata: b\n\n", []SSEEvent{{"message", "", []byte("a\nb")}}},
		{"comments and no space", ": ping\ndata:x\n\n", []SSEEvent{{"message", "", []byte("x")}}},
		{"no data, no event", "event: e\n\ndata: q\n\n", []SSEEvent{{"message", "", []byte("q")}}},
		{"unfinished event kept back", "data: a\n\ndata: b\n", []SSEEvent{{"message", "", []byte("a")}}},
		{"id persists", "id: 1\ndata: a\n\ndata: b\n\n", []SSEEvent{{"message", "1", []byte("a")}, {"message", "1", []byte("b")}}},
	} {
		if got := parseAll(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// FuzzSSE: feeding a stream in two pieces, split anywhere, gives the same
// events as feeding it whole, and nothing panics.
func FuzzSSE(f *testing.F) {
	for _, s := range []string{"event: message\ndata: {}\n\n", "data: a\r\ndata: b\r\n\r\n", ": c\rdata:x\r\r", "id: 1\ndata\n\n", ""} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, at int) {
		if at < 0 {
			at = -at
		}
		if len(s) > 0 {
			at %= len(s) + 1
		} else {
			at = 0
		}
		whole := parseAll(s)
		split := parseAll(s[:at], s[at:])
		if !reflect.DeepEqual(whole, split) {
			t.Fatalf("split at %d: %+v, whole %+v", at, split, whole)
		}
	})
}
