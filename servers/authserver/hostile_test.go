package authserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/mcpbench/mcpbench/servers/internal/hostile"
)

func TestHostileInput(t *testing.T) {
	_, hs, _ := newServer(t, Options{})
	tok := hs.URL + "/token"
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {resource}}.Encode()
	hostile.Run(t, hostile.Target{URL: tok, MaxBody: maxForm, Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		Good: func() *http.Request {
			r, _ := http.NewRequest("POST", tok, strings.NewReader(form))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth("bench", "s3cret")
			return r
		}})
}
