package fast

import (
	"bytes"
	"fmt"
	"strings"
)

// originPolicy says which Origin header values are served. Comparisons are
// byte-wise on lower-cased values, without allocating.
type originPolicy struct {
	any     bool
	entries []originEntry // nil with any false: the loopback default
}

type originEntry struct {
	prefix  string // "scheme://host", lower case
	port    string // "" = any port
	anyPort bool
}

// newOriginPolicy parses Options.AllowedOrigins (see New).
func newOriginPolicy(list []string) (originPolicy, error) {
	var p originPolicy
	if list == nil {
		return p, nil
	}
	p.entries = []originEntry{} // non-nil: an empty list allows no Origin at all
	for _, o := range list {
		if o == "*" {
			p.any = true
			continue
		}
		scheme, hostport, ok := splitOrigin([]byte(strings.ToLower(o)))
		var host, port []byte
		if ok {
			host, port, ok = splitHostPort(hostport)
		}
		if !ok {
			return p, fmt.Errorf("fast: AllowedOrigins: %q is not an origin like https://host[:port] (or \"*\")", o)
		}
		e := originEntry{prefix: string(scheme) + "://" + string(host), port: string(port), anyPort: port == nil}
		p.entries = append(p.entries, e)
	}
	return p, nil
}

// allows reports whether origin (an Origin header value) may be served.
func (p *originPolicy) allows(origin []byte) bool {
	if p.any {
		return true
	}
	var lower [256]byte
	if len(origin) > len(lower) {
		return false
	}
	for i, c := range origin {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	o := lower[:len(origin)]
	scheme, hostport, ok := splitOrigin(o)
	if !ok {
		return false // "null", or not an origin
	}
	host, port, ok := splitHostPort(hostport)
	if !ok {
		return false
	}
	if p.entries == nil {
		if string(scheme) != "http" && string(scheme) != "https" {
			return false
		}
		switch string(host) {
		case "localhost", "127.0.0.1", "[::1]":
			return true
		}
		return false
	}
	for _, e := range p.entries {
		n := len(scheme)
		if len(e.prefix) != n+3+len(host) || e.prefix[:n] != string(scheme) ||
			e.prefix[n:n+3] != "://" || e.prefix[n+3:] != string(host) {
			continue
		}
		if e.anyPort || e.port == string(port) {
			return true
		}
	}
	return false
}

// splitOrigin splits "scheme://hostport" and checks that there is no path,
// query, user info or fragment.
func splitOrigin(o []byte) (scheme, hostport []byte, ok bool) {
	i := bytes.Index(o, []byte("://"))
	if i <= 0 {
		return nil, nil, false
	}
	scheme, hostport = o[:i], o[i+3:]
	for j, c := range scheme {
		if !('a' <= c && c <= 'z' || j > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return nil, nil, false
		}
	}
	if len(hostport) == 0 || bytes.ContainsAny(hostport, "/?#@ \t") {
		return nil, nil, false
	}
	return scheme, hostport, true
}

// splitHostPort splits "host[:port]" where host may be "[v6]"; port is nil
// when absent and must be digits when present.
func splitHostPort(hp []byte) (host, port []byte, ok bool) {
	end := 0
	if hp[0] == '[' {
		end = bytes.IndexByte(hp, ']')
		if end < 0 {
			return nil, nil, false
		}
		end++
	} else {
		end = bytes.IndexByte(hp, ':')
		if end < 0 {
			end = len(hp)
		}
	}
	host, rest := hp[:end], hp[end:]
	if len(host) == 0 {
		return nil, nil, false
	}
	if len(rest) == 0 {
		return host, nil, true
	}
	if rest[0] != ':' || len(rest) == 1 {
		return nil, nil, false
	}
	for _, c := range rest[1:] {
		if c < '0' || c > '9' {
			return nil, nil, false
		}
	}
	return host, rest[1:], true
}

// isJSONContentType reports whether ct is application/json, with at most a
// UTF-8 charset parameter (JSON text is UTF-8, RFC 8259 §8.1).
func isJSONContentType(ct []byte) bool {
	mt, params, _ := bytes.Cut(ct, []byte(";"))
	if !bytes.EqualFold(bytes.TrimSpace(mt), []byte("application/json")) {
		return false
	}
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte(";"))
		k, v, _ := bytes.Cut(p, []byte("="))
		if bytes.EqualFold(bytes.TrimSpace(k), []byte("charset")) {
			v = bytes.Trim(bytes.TrimSpace(v), `"`)
			if !bytes.EqualFold(v, []byte("utf-8")) && !bytes.EqualFold(v, []byte("utf8")) {
				return false
			}
		}
	}
	return true
}

// acceptsJSONAndSSE reports whether the Accept header values admit both
// application/json and text/event-stream, as MCP requires of every POST.
// Matching follows RFC 9110 §12.5.1: the most specific media range that
// matches a type decides, wildcards count ("*/*" admits both), and q=0 means
// "not acceptable". No Accept header admits neither: MCP clients must send it.
func acceptsJSONAndSSE(values [][]byte) bool {
	var jsonSpec, sseSpec int // specificity of the best match: 0 none, 1 */*, 2 type/*, 3 exact
	var jsonOK, sseOK bool
	for _, v := range values {
		for len(v) > 0 {
			var r []byte
			r, v, _ = bytes.Cut(v, []byte(","))
			mr, params, _ := bytes.Cut(r, []byte(";"))
			mr = bytes.TrimSpace(mr)
			typ, sub, ok := bytes.Cut(mr, []byte("/"))
			if !ok {
				continue
			}
			ok = qNonZero(params)
			if sp := matchRange(typ, sub, "application", "json"); sp > jsonSpec {
				jsonSpec, jsonOK = sp, ok
			}
			if sp := matchRange(typ, sub, "text", "event-stream"); sp > sseSpec {
				sseSpec, sseOK = sp, ok
			}
		}
	}
	return jsonOK && sseOK
}

// matchRange returns how specifically the media range typ/sub matches
// wantType/wantSub: 3 exactly, 2 as wantType/*, 1 as */*, 0 not at all.
func matchRange(typ, sub []byte, wantType, wantSub string) int {
	switch {
	case bytes.EqualFold(typ, []byte(wantType)) && bytes.EqualFold(sub, []byte(wantSub)):
		return 3
	case bytes.EqualFold(typ, []byte(wantType)) && string(sub) == "*":
		return 2
	case string(typ) == "*" && string(sub) == "*":
		return 1
	}
	return 0
}

// qNonZero reports whether a media range's parameters leave it acceptable:
// a q of 0 (0, 0.0, 0.00, 0.000) excludes it.
func qNonZero(params []byte) bool {
	for len(params) > 0 {
		var p []byte
		p, params, _ = bytes.Cut(params, []byte(";"))
		k, v, _ := bytes.Cut(p, []byte("="))
		if !bytes.EqualFold(bytes.TrimSpace(k), []byte("q")) {
			continue
		}
		v = bytes.TrimSpace(v)
		if len(v) == 0 || v[0] != '0' {
			return true
		}
		for _, c := range v[1:] {
			if c != '.' && c != '0' {
				return true
			}
		}
		return false
	}
	return true
}
