package mcp

import "bytes"

// SSEEvent is one server-sent event, as SSEParser hands it to OnEvent.
type SSEEvent struct {
	Event string // the event type; "message" when the stream names none
	ID    string // the last event ID, which carries over to later events
	// Data is the event's data lines joined by "\n". It is only valid
	// during the OnEvent call: the parser reuses it; copy what you keep.
	Data []byte
}

// SSEParser reads a text/event-stream incrementally: Feed it bytes as
// they arrive, split anywhere (inside a line, between CR and LF, inside a
// byte-order mark), and it calls OnEvent once per complete event, in
// order. Splitting a stream differently never changes the events.
//
// It follows the WHATWG rules: lines end in LF, CRLF or CR; a leading
// byte-order mark is dropped; lines starting with ':' are comments; a
// field without a colon has an empty value; one space after the colon is
// dropped; unknown fields (retry included) are ignored; an id holding NUL
// is ignored; an event is dispatched at a blank line, and only when it has
// data. An event not ended by a blank line when the stream ends is never
// dispatched.
//
// The zero value is ready to use once OnEvent is set. A parser is not
// safe for concurrent use. After warm-up it allocates only for event
// types other than "message" and "endpoint" and for changed IDs.
type SSEParser struct {
	OnEvent func(SSEEvent)

	line    []byte // a line begun in an earlier Feed
	started bool   // the first line has been seen (BOM check done)
	lastCR  bool   // the last byte fed ended a line with CR
	event   string
	id      string
	data    []byte
	hasData bool
}

// Reset forgets all state but OnEvent, for a new stream.
func (p *SSEParser) Reset() {
	*p = SSEParser{OnEvent: p.OnEvent, line: p.line[:0], data: p.data[:0]}
}

// Feed parses the next piece of the stream.
func (p *SSEParser) Feed(b []byte) {
	for len(b) > 0 {
		if p.lastCR { // a CR ended the last line: an LF right after belongs to it
			p.lastCR = false
			if b[0] == '\n' {
				b = b[1:]
				continue
			}
		}
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			p.line = append(p.line, b...)
			return
		}
		p.lastCR = b[i] == '\r'
		if len(p.line) == 0 {
			p.processLine(b[:i]) // the whole line is in b: no copy
		} else {
			p.line = append(p.line, b[:i]...)
			p.processLine(p.line)
			p.line = p.line[:0]
		}
		b = b[i+1:]
	}
}

var utf8BOM = []byte("\xef\xbb\xbf")

func (p *SSEParser) processLine(line []byte) {
	if !p.started {
		p.started = true
		line = bytes.TrimPrefix(line, utf8BOM)
	}
	if len(line) == 0 {
		if p.hasData && p.OnEvent != nil {
			ev := p.event
			if ev == "" {
				ev = "message"
			}
			p.OnEvent(SSEEvent{Event: ev, ID: p.id, Data: p.data})
		}
		p.event, p.data, p.hasData = "", p.data[:0], false
		return
	}
	if line[0] == ':' {
		return
	}
	field, value := line, []byte(nil)
	if i := bytes.IndexByte(line, ':'); i >= 0 {
		field, value = line[:i], line[i+1:]
		if len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
	}
	switch string(field) {
	case "event":
		switch string(value) {
		case "message":
			p.event = "message"
		case "endpoint":
			p.event = "endpoint"
		default:
			p.event = string(value)
		}
	case "data":
		if p.hasData {
			p.data = append(p.data, '\n')
		}
		p.data = append(p.data, value...)
		p.hasData = true
	case "id":
		if bytes.IndexByte(value, 0) < 0 && string(value) != p.id {
			p.id = string(value)
		}
	}
}
