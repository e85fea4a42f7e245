package bench

import "bytes"

// SSEEvent is one server-sent event.
type SSEEvent struct {
	Event string // "message" when the stream names none
	ID    string
	Data  []byte // data lines joined by "\n"
}

// SSEParser reads an event stream incrementally: Feed it bytes as they
// arrive, split anywhere (inside a line, between CR and LF), and it calls
// the handler once per complete event. It follows the WHATWG rules: lines
// end in LF, CRLF or CR; comments start with ':'; a field without a colon
// has an empty value; one leading space after the colon is dropped; an
// event is dispatched at a blank line and only when it has data.
type SSEParser struct {
	OnEvent func(SSEEvent)
	line    []byte
	lastCR  bool
	event   string
	id      string
	data    []byte
	hasData bool
}

// Feed parses b.
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
		p.line = append(p.line, b[:i]...)
		p.lastCR = b[i] == '\r'
		b = b[i+1:]
		p.processLine(p.line)
		p.line = p.line[:0]
	}
}

func (p *SSEParser) processLine(line []byte) {
	if len(line) == 0 {
		if p.hasData && p.OnEvent != nil {
			ev := p.event
			if ev == "" {
				ev = "message"
			}
			p.OnEvent(SSEEvent{Event: ev, ID: p.id, Data: append([]byte(nil), p.data...)})
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
		p.event = string(value)
	case "data":
		if p.hasData {
			p.data = append(p.data, '\n')
		}
		p.data = append(p.data, value...)
		p.hasData = true
	case "id":
		if bytes.IndexByte(value, 0) < 0 {
			p.id = string(value)
		}
	}
}
