package driver

import (
	"bytes"
	"errors"
)

// ErrFrame says that bytes read from a server are not an HTTP/1.1 response
// this framing understands: the connection cannot be read further.
var ErrFrame = errors.New("malformed HTTP/1.1 response")

// maxHeader bounds a response's header block: a server that sends more
// without ending it is not answering a benchmark's call.
const maxHeader = 64 << 10

// Frame is one HTTP/1.1 response found at the start of a buffer.
type Frame struct {
	Status int
	// Len is how many bytes of the buffer the response takes, header and
	// body; the next response starts there.
	Len int
	// Header is the header block without the status line, each line ending
	// in CRLF; Body is the body as sent (a chunked body keeps its coding).
	Header, Body []byte
	Chunked      bool
	// Close is set when the server ends the connection after this response
	// ("Connection: close", or an HTTP/1.0 reply without keep-alive).
	Close bool
}

// ReadFrame finds the response at the start of buf. It returns false while
// buf holds only part of one, and ErrFrame when buf cannot start one. It
// does not allocate. A response is framed by Content-Length or chunked
// transfer coding; one with neither ends with its connection and is not
// supported here (ErrFrame), as is any 1xx interim response.
func ReadFrame(buf []byte) (Frame, bool, error) {
	var f Frame
	end := bytes.Index(buf, crlf2)
	if end < 0 {
		if len(buf) > maxHeader {
			return f, false, ErrFrame
		}
		if n := min(len(buf), len(http1)); !bytes.Equal(buf[:n], http1[:n]) {
			return f, false, ErrFrame
		}
		return f, false, nil
	}
	line := buf[:bytes.IndexByte(buf, '\n')+1]
	if len(line) < 14 || !bytes.HasPrefix(line, http1) || line[7] != '0' && line[7] != '1' || line[8] != ' ' || line[len(line)-2] != '\r' {
		return f, false, ErrFrame
	}
	minor := line[7]
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return f, false, ErrFrame
		}
		f.Status = f.Status*10 + int(c-'0')
	}
	if f.Status < 200 || line[12] != ' ' && len(line) != 14 || !fieldValue(line[12:len(line)-2]) {
		return f, false, ErrFrame
	}
	f.Header = buf[len(line) : end+2]
	f.Close = minor == '0'
	length := -1
	for h := f.Header; len(h) > 0; {
		i := bytes.IndexByte(h, '\n')
		if i < 1 || h[i-1] != '\r' {
			return f, false, ErrFrame
		}
		name, value, ok := bytes.Cut(h[:i-1], colon)
		h = h[i+1:]
		if !ok || !token(name) || !fieldValue(value) {
			return f, false, ErrFrame
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, hContentLength):
			n, ok := atoi(value)
			if !ok || length >= 0 && n != length {
				return f, false, ErrFrame
			}
			length = n
		case bytes.EqualFold(name, hTransferEncoding):
			if !bytes.EqualFold(value, chunked) || minor == '0' {
				return f, false, ErrFrame
			}
			f.Chunked = true
		case bytes.EqualFold(name, hConnection):
			if bytes.EqualFold(value, closeTok) {
				f.Close = true
			} else if bytes.EqualFold(value, keepAlive) {
				f.Close = false
			}
		}
	}
	body := end + 4
	switch {
	case f.Status == 204 || f.Status == 304:
		f.Len = body
	case f.Chunked:
		n, ok, err := chunkedLen(buf[body:])
		if !ok || err != nil {
			return Frame{}, false, err
		}
		f.Len = body + n
	case length >= 0:
		if len(buf) < body+length {
			return Frame{}, false, nil
		}
		f.Len = body + length
	default:
		return f, false, ErrFrame
	}
	f.Body = buf[body:f.Len]
	return f, true, nil
}

// chunkedLen is the length of a complete chunked body at the start of b,
// trailers included.
func chunkedLen(b []byte) (int, bool, error) {
	off := 0
	for {
		i := bytes.IndexByte(b[off:], '\n')
		if i < 0 {
			if len(b)-off > 1024 {
				return 0, false, ErrFrame
			}
			return 0, false, nil
		}
		line := b[off : off+i+1]
		if len(line) < 3 || line[len(line)-2] != '\r' {
			return 0, false, ErrFrame
		}
		n, ok := chunkSize(line[:len(line)-2])
		if !ok {
			return 0, false, ErrFrame
		}
		off += len(line)
		if n == 0 {
			// Trailers, then an empty line.
			for {
				j := bytes.IndexByte(b[off:], '\n')
				if j < 0 {
					return 0, false, nil
				}
				if j < 1 || b[off+j-1] != '\r' {
					return 0, false, ErrFrame
				}
				off += j + 1
				if j == 1 {
					return off, true, nil
				}
			}
		}
		if len(b) < off+n+2 {
			return 0, false, nil
		}
		if b[off+n] != '\r' || b[off+n+1] != '\n' {
			return 0, false, ErrFrame
		}
		off += n + 2
	}
}

// chunkSize reads a chunk-size line without its CRLF: hex digits, then
// perhaps white space and extensions.
func chunkSize(line []byte) (int, bool) {
	size, _, _ := bytes.Cut(line, semicolon)
	return hexatoi(bytes.TrimRight(size, " \t"))
}

// Dechunk appends a complete chunked body's data to dst (Frame.Body of a
// frame with Chunked set), without its chunk coding and trailers.
func Dechunk(dst, body []byte) []byte {
	for {
		i := bytes.IndexByte(body, '\n')
		if i < 1 {
			return dst
		}
		n, ok := chunkSize(body[:i-1])
		if !ok || n == 0 || len(body) < i+1+n {
			return dst
		}
		dst = append(dst, body[i+1:i+1+n]...)
		body = body[min(i+1+n+2, len(body)):]
	}
}

// HeaderValue returns the value of the first header called name in a
// Frame's header block (case-insensitive), trimmed, or nil.
func HeaderValue(header []byte, name string) []byte {
	for len(header) > 0 {
		i := bytes.IndexByte(header, '\n')
		if i < 0 {
			return nil
		}
		n, v, ok := bytes.Cut(header[:i], colon)
		header = header[i+1:]
		if ok && len(n) == len(name) && bytes.EqualFold(n, []byte(name)) {
			return bytes.TrimSpace(v)
		}
	}
	return nil
}

// token says whether b is a valid header name (RFC 9110 token).
func token(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenChar[c] {
			return false
		}
	}
	return true
}

// fieldValue says whether b may be a header's value: no control bytes but
// horizontal tab.
func fieldValue(b []byte) bool {
	for _, c := range b {
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// tokenChar marks the bytes a token may hold.
var tokenChar = func() (t [256]bool) {
	for c := '!'; c < 0x7f; c++ {
		t[c] = !bytes.ContainsRune([]byte(`"(),/:;<=>?@[\]{}`), c)
	}
	return t
}()

func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 12 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func hexatoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			n = n<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			n = n<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return n, true
}

var (
	crlf2             = []byte("\r\n\r\n")
	http1             = []byte("HTTP/1.")
	colon             = []byte(":")
	semicolon         = []byte(";")
	chunked           = []byte("chunked")
	closeTok          = []byte("close")
	keepAlive         = []byte("keep-alive")
	hContentLength    = []byte("Content-Length")
	hTransferEncoding = []byte("Transfer-Encoding")
	hConnection       = []byte("Connection")
)
