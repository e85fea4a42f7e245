package graphql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/mcpbench/mcpbench/servers/tools"
)

// accept is what the load generator's GraphQL driver sends.
const accept = "application/graphql-response+json, application/json"

// reply is a GraphQL response as a client reads it.
type reply struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

// code is the first error's extensions.code, or "".
func (r reply) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// request is one POST /graphql.
type request struct {
	body          string // the raw body; empty means {"query": query}
	query         string
	method        string // default POST
	contentType   string // default application/json
	accept        string // default accept
	remoteAddr    string // default httptest's
	contentLength int64  // -1 for a body of unknown length; 0 means the body's
}

type answer struct {
	status int
	header http.Header
	raw    string
	reply  reply
}

func body(query string) string {
	b, _ := json.Marshal(map[string]string{"query": query})
	return string(b)
}

func do(t testing.TB, h http.Handler, r request) answer {
	t.Helper()
	if r.body == "" {
		r.body = body(r.query)
	}
	if r.method == "" {
		r.method = http.MethodPost
	}
	req := httptest.NewRequest(r.method, "http://127.0.0.1:8080"+Path, strings.NewReader(r.body))
	if r.contentType == "" {
		r.contentType = "application/json"
	}
	req.Header.Set("Content-Type", r.contentType)
	if r.accept == "" {
		r.accept = accept
	}
	req.Header.Set("Accept", r.accept)
	if r.remoteAddr != "" {
		req.RemoteAddr = r.remoteAddr
	}
	if r.contentLength != 0 {
		req.ContentLength = r.contentLength
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	a := answer{status: w.Code, header: w.Header(), raw: w.Body.String()}
	if err := json.Unmarshal(w.Body.Bytes(), &a.reply); err != nil {
		t.Fatalf("%d %q: not a JSON body: %v", w.Code, a.raw, err)
	}
	return a
}

func newHandler(t testing.TB, o Options) http.Handler {
	t.Helper()
	h, err := NewHandler(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// good is a query that must always succeed, sent after each refusal.
const good = `{ echo(message: "still serving") }`

func mustServe(t *testing.T, h http.Handler) {
	t.Helper()
	a := do(t, h, request{query: good})
	if a.status != 200 || a.reply.Data["echo"] != "still serving" || len(a.reply.Errors) > 0 {
		t.Fatalf("the good query after: %d %s", a.status, a.raw)
	}
}

func TestFields(t *testing.T) {
	h := newHandler(t, Options{})
	compute1, _ := tools.Compute(1)
	for _, tc := range []struct {
		name, query string
		want        map[string]any // top-level data
	}{
		{"echo", `{ echo(message: "hello") }`, map[string]any{"echo": "hello"}},
		{"echo empty", `{ echo(message: "") }`, map[string]any{"echo": ""}},
		{"compute", `{ compute(rounds: 1) }`, map[string]any{"compute": compute1}},
		{"payload", `{ payload(bytes: 40) }`, map[string]any{"payload": "abcdefghijklmnopqrstuvwxyz0123456789abcd"}},
		{"sleep", `{ sleep(ms: 1) }`, map[string]any{"sleep": "slept 1 ms"}},
		{"variables", `query Q($m: String!) { echo(message: $m) }`, nil}, // body below
		{"nested", `{ tools { echo(message: "a") tools { payload(bytes: 3) compute(rounds: 1) sleep(ms: 0) } } }`,
			map[string]any{"tools": map[string]any{"echo": "a", "tools": map[string]any{"payload": "abc", "compute": compute1, "sleep": "slept 0 ms"}}}},
		{"aliases", `{ a: echo(message: "1") b: echo(message: "2") __typename }`, map[string]any{"a": "1", "b": "2", "__typename": "Query"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request{query: tc.query}
			if tc.name == "variables" {
				r.body = `{"query": "query Q($m: String!) { echo(message: $m) }", "variables": {"m": "from a variable"}, "operationName": "Q"}`
				tc.want = map[string]any{"echo": "from a variable"}
			}
			a := do(t, h, r)
			if a.status != 200 || len(a.reply.Errors) > 0 {
				t.Fatalf("%d %s", a.status, a.raw)
			}
			if got, want := fmt.Sprint(a.reply.Data), fmt.Sprint(tc.want); got != want {
				t.Errorf("data %s, want %s", got, want)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/graphql-response+json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// A tool's refusal of its arguments is a field error: 200, "errors" with
// BAD_USER_INPUT and the field's path, data null (the fields are non-null).
func TestBadUserInput(t *testing.T) {
	h := newHandler(t, Options{})
	for _, tc := range []struct {
		name, query string
		path        string
	}{
		{"negative rounds", `{ compute(rounds: -1) }`, "[compute]"},
		{"too many rounds", fmt.Sprintf(`{ compute(rounds: %d) }`, tools.MaxRounds+1), "[compute]"},
		{"negative bytes", `{ payload(bytes: -5) }`, "[payload]"},
		{"too long a sleep", fmt.Sprintf(`{ sleep(ms: %d) }`, tools.MaxSleepMs+1), "[sleep]"},
		{"nested", `{ tools { tools { payload(bytes: -1) } } }`, "[tools tools payload]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, h, request{query: tc.query})
			if a.status != 200 || a.reply.code() != CodeBadUserInput {
				t.Fatalf("%d %s", a.status, a.raw)
			}
			if a.reply.Data != nil {
				t.Errorf("data %v, want null", a.reply.Data)
			}
			if got := fmt.Sprint(a.reply.Errors[0].Path); got != tc.path {
				t.Errorf("path %s, want %s", got, tc.path)
			}
			mustServe(t, h)
		})
	}
}

func nest(levels int, leaf string) string {
	return strings.Repeat("tools { ", levels) + leaf + strings.Repeat(" }", levels)
}

func aliases(n int, field string) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		fmt.Fprintf(&b, " a%d: %s", i, field)
	}
	b.WriteString(" }")
	return b.String()
}

// Every limit: the refusal's status and code, then the server still serves.
func TestLimits(t *testing.T) {
	h := newHandler(t, Options{})
	leaf := `echo(message: "x")`
	big := `{"query": "{ echo(message: \"` + strings.Repeat("x", 1<<20) + `\") }"}`
	for _, tc := range []struct {
		name   string
		r      request
		status int
		code   string
		msg    string // in the first error's message
	}{
		{"depth 5 passes", request{query: "{ " + nest(4, leaf) + " }"}, 200, "", ""},
		{"depth 6", request{query: "{ " + nest(5, leaf) + " }"}, 400, CodeDepthLimit, "depth 6, which exceeds the limit of 5"},
		{"depth 6 by __typename", request{query: "{ " + nest(5, "__typename") + " }"}, 400, CodeDepthLimit, "depth 6"},
		{"depth through fragments", request{query: `query { ...A } fragment A on Query { tools { ...B } }
			fragment B on Tools { tools { tools { ...C } } } fragment C on Tools { tools { tools { echo(message: "x") } } }`},
			400, CodeDepthLimit, "depth 6"},
		{"depth through inline fragments", request{query: "{ " + strings.Repeat("tools { ... on Tools { ", 5) + leaf + strings.Repeat(" } }", 5) + " }"},
			400, CodeDepthLimit, "depth 6"},
		{"depth 20", request{query: "{ " + nest(19, leaf) + " }"}, 400, CodeDepthLimit, "depth 20"},
		{"complexity 50 passes", request{query: aliases(50, leaf)}, 200, "", ""},
		{"complexity 51", request{query: aliases(51, leaf)}, 400, CodeComplexityLimit, "complexity 51, which exceeds the limit of 50"},
		{"complexity by nesting", request{query: aliases(18, nest(2, leaf))}, 400, CodeComplexityLimit, "complexity 54"},
		{"complexity through a fragment", request{query: `{ ...F ...F x: tools { ...T } } fragment F on Query { ` + aliases(20, leaf)[2:] +
			` fragment T on Tools { ` + aliases(20, leaf)[2:]}, 400, CodeComplexityLimit, "complexity 61"},
		{"too many tokens", request{query: aliases(400, "__typename")}, 400, "GRAPHQL_PARSE_FAILED", "exceeded token limit of 1000"},
		{"malformed GraphQL", request{query: `{ echo(message: "x" }`}, 400, "GRAPHQL_PARSE_FAILED", "Expected Name"},
		{"unterminated string", request{query: `{ echo(message: "x) }`}, 400, "GRAPHQL_PARSE_FAILED", "Unexpected <Invalid>"},
		{"unknown field", request{query: `{ nope }`}, 400, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "nope"`},
		{"missing argument", request{query: `{ echo }`}, 400, "GRAPHQL_VALIDATION_FAILED", `argument "message"`},
		{"wrong argument type", request{query: `{ compute(rounds: "x") }`}, 400, "GRAPHQL_VALIDATION_FAILED", "Int"},
		{"a mutation", request{query: `mutation { echo(message: "x") }`}, 400, "GRAPHQL_VALIDATION_FAILED", "mutation"},
		{"empty query", request{body: `{"query": ""}`}, 400, "GRAPHQL_VALIDATION_FAILED", "no operation provided"},
		{"malformed JSON", request{body: `{"query": `}, 400, "", "json request body could not be decoded"},
		{"application/json: 422", request{query: "{ " + nest(5, leaf) + " }", accept: "application/json"}, 422, CodeDepthLimit, "depth 6"},
		{"introspection: __schema", request{query: `{ __schema { queryType { name } } }`}, 400, CodeIntrospectionOff, "introspection is disabled"},
		{"introspection: __type", request{query: `{ __type(name: "Tools") { name } }`}, 400, CodeIntrospectionOff, "introspection is disabled"},
		{"introspection: in a fragment", request{query: `query { ...I } fragment I on Query { __schema { types { name } } }`}, 400, CodeIntrospectionOff, ""},
		{"introspection: no suggestions", request{query: `{ ech(message: "x") }`}, 400, "GRAPHQL_VALIDATION_FAILED", `Cannot query field "ech" on type "Query".`},
		{"body over 1 MiB", request{body: big}, 413, CodeBodyTooLarge, "over 1048576 bytes"},
		{"body over 1 MiB, length unknown", request{body: big, contentLength: -1}, 413, CodeBodyTooLarge, "over 1048576 bytes"},
		{"GET", request{method: http.MethodGet}, 405, CodeMethodNotAllowed, "POST only"},
		{"not JSON", request{contentType: "text/plain", query: good}, 400, "", "transport not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, h, tc.r)
			if a.status != tc.status {
				t.Errorf("status %d, want %d: %.300s", a.status, tc.status, a.raw)
			}
			if tc.status == 200 {
				if len(a.reply.Errors) > 0 {
					t.Errorf("errors: %.300s", a.raw)
				}
			} else {
				if len(a.reply.Errors) == 0 {
					t.Fatalf("no GraphQL errors: %.300s", a.raw)
				}
				if a.reply.Data != nil {
					t.Errorf("data %v on a refusal", a.reply.Data)
				}
				if got := a.reply.code(); got != tc.code {
					t.Errorf("code %q, want %q", got, tc.code)
				}
				if m := a.reply.Errors[0].Message; !strings.Contains(m, tc.msg) || (tc.msg == "" && m == "") {
					t.Errorf("message %.200q, want %q in it", m, tc.msg)
				}
			}
			if tc.status == http.StatusMethodNotAllowed && a.header.Get("Allow") != "POST" {
				t.Errorf("Allow %q", a.header.Get("Allow"))
			}
			mustServe(t, h)
		})
	}
}

// The limits are options.
func TestLimitOptions(t *testing.T) {
	// echoOfBody is an echo query whose request body is n bytes.
	echoOfBody := func(n int) string {
		return `{ echo(message: "` + strings.Repeat("x", n-len(body(`{ echo(message: "") }`))) + `") }`
	}
	for _, tc := range []struct {
		name   string
		o      Options
		query  string
		status int
		code   string
	}{
		{"depth 8", Options{MaxDepth: 8}, "{ " + nest(7, "__typename") + " }", 200, ""},
		{"depth 9", Options{MaxDepth: 8}, "{ " + nest(8, "__typename") + " }", 400, CodeDepthLimit},
		{"complexity 100", Options{MaxComplexity: 100}, aliases(100, "__typename"), 200, ""},
		{"complexity 101", Options{MaxComplexity: 100}, aliases(101, "__typename"), 400, CodeComplexityLimit},
		{"20 tokens", Options{MaxTokens: 20}, aliases(6, "__typename"), 200, ""}, // { + 6×3 + }
		{"21 tokens", Options{MaxTokens: 20}, "{ __typename" + aliases(6, "__typename")[1:], 400, "GRAPHQL_PARSE_FAILED"},
		{"a body of 100 bytes", Options{MaxBody: 100}, echoOfBody(100), 200, ""},
		{"a body of 101 bytes", Options{MaxBody: 100}, echoOfBody(101), 413, CodeBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, newHandler(t, tc.o), request{query: tc.query})
			if a.status != tc.status || a.reply.code() != tc.code {
				t.Errorf("%d %s; want %d %s", a.status, a.raw, tc.status, tc.code)
			}
		})
	}
}

func TestIntrospectionOn(t *testing.T) {
	h := newHandler(t, Options{Introspection: true})
	a := do(t, h, request{query: introspectionQuery})
	if a.status != 200 || len(a.reply.Errors) > 0 {
		t.Fatalf("%d %.500s", a.status, a.raw)
	}
	if !strings.Contains(a.raw, `"name":"Tools"`) || !strings.Contains(a.raw, `"name":"payload"`) {
		t.Errorf("the schema is not in %.500s", a.raw)
	}
	a = do(t, h, request{query: `{ ech(message: "x") }`})
	if !strings.Contains(a.reply.Errors[0].Message, `Did you mean "echo"`) {
		t.Errorf("with introspection on, suggestions are on: %s", a.raw)
	}
	// The depth limit still holds for data.
	if a := do(t, h, request{query: "{ " + nest(5, "__typename") + " }"}); a.status != 400 || a.reply.code() != CodeDepthLimit {
		t.Errorf("%d %s", a.status, a.raw)
	}
}

// The query cache is off: the same query text twice is parsed and
// validated twice, so each call gets a document of its own, on which the
// validator has resolved the field definitions. With gqlgen's LRU cache
// (the control) the second call reuses the first call's document.
func TestNoQueryCache(t *testing.T) {
	o, err := Options{}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, cached := range []bool{false, true} {
		t.Run(fmt.Sprintf("cache %v", cached), func(t *testing.T) {
			srv := newGraphQL(o)
			if cached {
				srv.SetQueryCache(lru.New[*ast.QueryDocument](10))
			}
			var docs []*ast.QueryDocument
			srv.AroundOperations(func(ctx context.Context, next gql.OperationHandler) gql.ResponseHandler {
				docs = append(docs, gql.GetOperationContext(ctx).Doc)
				return next(ctx)
			})
			for range 3 {
				if a := do(t, srv, request{query: good}); a.status != 200 {
					t.Fatalf("%d %s", a.status, a.raw)
				}
			}
			if len(docs) != 3 {
				t.Fatalf("%d operations", len(docs))
			}
			for _, d := range docs {
				if f, ok := d.Operations[0].SelectionSet[0].(*ast.Field); !ok || f.Definition == nil {
					t.Fatal("a document the validator did not walk")
				}
			}
			same := docs[0] == docs[1] && docs[1] == docs[2]
			if same != cached {
				t.Errorf("one document for three calls: %v; with a cache %v", same, cached)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	t.Run("trips", func(t *testing.T) {
		h := newHandler(t, Options{RateLimit: 0.5, Burst: 2})
		for i := range 2 {
			if a := do(t, h, request{query: good}); a.status != 200 {
				t.Fatalf("call %d: %d %s", i, a.status, a.raw)
			}
		}
		a := do(t, h, request{query: good})
		if a.status != http.StatusTooManyRequests || a.reply.code() != CodeRateLimited {
			t.Fatalf("%d %s", a.status, a.raw)
		}
		if ra := a.header.Get("Retry-After"); ra != "2" {
			t.Errorf("Retry-After %q, want 2 (one token at 0.5/s)", ra)
		}
		if ct := a.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		// Another client has a bucket of its own.
		if a := do(t, h, request{query: good, remoteAddr: "192.0.2.77:5000"}); a.status != 200 {
			t.Errorf("another address: %d %s", a.status, a.raw)
		}
	})
	t.Run("default does not trip", func(t *testing.T) {
		h := newHandler(t, Options{})
		for i := range 5000 {
			if a := do(t, h, request{query: good}); a.status != 200 {
				t.Fatalf("call %d: %d %s", i, a.status, a.raw)
			}
		}
	})
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{
		{Auth: "apikey"},
		{Auth: "jwt"},
		{Auth: "jwt", Verifier: verifierFunc(nil)},
		{MaxDepth: -1},
		{MaxComplexity: -1},
		{MaxTokens: -1},
		{Burst: -1},
		{RateLimit: -1},
		{MaxBody: -1},
	} {
		if _, err := NewHandler(o); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// introspectionQuery is graphql-js's getIntrospectionQuery(), as GraphiQL
// and code generators send it.
const introspectionQuery = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

// The bucket holds a second's worth by default, as the gateway's: a limit
// of 300/s must trip within the first few hundred calls.
func TestRateLimitBurstDefault(t *testing.T) {
	for _, tc := range []struct {
		in   Options
		want int
	}{{Options{RateLimit: 300}, 300}, {Options{RateLimit: 0.5}, 1}, {Options{}, 1e6}, {Options{RateLimit: 300, Burst: 7}, 7}} {
		o, err := tc.in.withDefaults()
		if err != nil || o.Burst != tc.want {
			t.Errorf("%+v: burst %d, %v; want %d", tc.in, o.Burst, err, tc.want)
		}
	}
	if _, err := (Options{Burst: -1}).withDefaults(); !errors.Is(err, ErrConfig) {
		t.Errorf("negative burst: %v", err)
	}
}
