package fast

import "testing"

func TestAccept(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		want   bool
	}{
		{[]string{"application/json, text/event-stream"}, true},
		{[]string{"text/event-stream,application/json"}, true},
		{[]string{"application/json", "text/event-stream"}, true},
		{[]string{"Application/JSON;charset=utf-8 , TEXT/EVENT-STREAM"}, true},
		{[]string{"*/*"}, true},
		{[]string{"application/*, text/*"}, true},
		{[]string{"application/json;q=0.5, text/event-stream;q=0.1"}, true},
		{[]string{"application/json"}, false},
		{[]string{"text/event-stream"}, false},
		{nil, false},
		{[]string{""}, false},
		{[]string{"application/json, text/event-stream;q=0"}, false},
		{[]string{"*/*, application/json;q=0.000"}, false},
		{[]string{"*/*;q=0, application/json, text/event-stream"}, true},
		{[]string{"text/*;q=0, text/event-stream"}, false},
		{[]string{"application/jsonx, text/event-streamy"}, false},
	} {
		var vals [][]byte
		for _, a := range tc.accept {
			vals = append(vals, []byte(a))
		}
		if got := acceptsJSONAndSSE(vals); got != tc.want {
			t.Errorf("Accept %q: %v, want %v", tc.accept, got, tc.want)
		}
	}
}

func TestContentType(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, `application/json;charset="UTF-8"`: true,
		"APPLICATION/JSON": true, "application/json-seq": false, "text/json": false, "": false,
		"application/json; charset=iso-8859-1": false, "application/jsonx": false,
	} {
		if got := isJSONContentType([]byte(ct)); got != want {
			t.Errorf("Content-Type %q: %v, want %v", ct, got, want)
		}
	}
}

func TestOrigins(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string
		origin  string
		want    bool
	}{
		{"loopback name", nil, "http://localhost", true},
		{"loopback with port", nil, "http://localhost:3000", true},
		{"loopback https v4", nil, "https://127.0.0.1:8443", true},
		{"loopback v6", nil, "http://[::1]:80", true},
		{"upper case", nil, "HTTP://LOCALHOST:1", true},
		{"other host", nil, "http://example.com", false},
		{"look-alike", nil, "http://localhost.example.com", false},
		{"other scheme", nil, "file://localhost", false},
		{"null", nil, "null", false},
		{"path", nil, "http://localhost/x", false},
		{"user info", nil, "http://a@localhost", false},
		{"bad port", nil, "http://localhost:x", false},
		{"empty", nil, "", false},
		{"listed any port", []string{"https://app.example.com"}, "https://app.example.com:444", true},
		{"listed exact port", []string{"https://app.example.com:443"}, "https://app.example.com:443", true},
		{"listed other port", []string{"https://app.example.com:443"}, "https://app.example.com:444", false},
		{"listed other scheme", []string{"https://app.example.com"}, "http://app.example.com", false},
		{"list replaces loopback", []string{"https://app.example.com"}, "http://localhost", false},
		{"empty list", []string{}, "http://localhost", false},
		{"star", []string{"*"}, "https://anything.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := newOriginPolicy(tc.allowed)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.allows([]byte(tc.origin)); got != tc.want {
				t.Errorf("allows(%q) = %v, want %v", tc.origin, got, tc.want)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"reply", Options{Reply: "xml"}},
		{"max body", Options{MaxBody: -1}},
		{"origin with path", Options{AllowedOrigins: []string{"https://a.example/x"}}},
		{"origin without scheme", Options{AllowedOrigins: []string{"a.example"}}},
		{"origin bad port", Options{AllowedOrigins: []string{"https://a.example:x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.opts); err == nil {
				t.Errorf("New(%+v) succeeded", tc.opts)
			}
		})
	}
	if _, err := New(Options{}); err != nil {
		t.Errorf("New(zero Options): %v", err)
	}
}
