package graphql

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzRequest: any body the GraphQL endpoint receives is answered without
// a panic and without a server error, and the server stays usable.
func FuzzRequest(f *testing.F) {
	for _, s := range []string{
		`{"query":"{ echo(message: \"hi\") }"}`,
		`{"query":"{ tools { tools { echo(message: \"x\") } } }"}`,
		`{"query":"query Q($m: String!) { echo(message: $m) }","variables":{"m":"v"}}`,
		`{"query":"fragment F on Query { echo(message: \"a\") } { ...F }"}`,
		`{"query":"{ __schema { types { name } } }"}`,
		`{"query":"{ compute(rounds: -1) }"}`,
		`{"query":"{"}`, `{}`, `[]`, `null`, `{"query":5}`,
	} {
		f.Add(s)
	}
	h, err := NewHandler(Options{MaxComplexity: 50, MaxDepth: 5, MaxTokens: 1000})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		if strings.Contains(body, "sleep") {
			return // the sleep field only costs the fuzzer time
		}
		req := httptest.NewRequest("POST", "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%q: %d %s", body, w.Code, w.Body.String())
		}
	})
}
