package graphql

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/vektah/gqlparser/v2"

	"github.com/mcpbench/mcpbench/servers/graphql/internal/gen"
)

// fragmentBomb is n fragments, each spreading the next twice: about 10n
// tokens that expand to 2^n fields.
func fragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("query { ...F0 }\n")
	for i := range n {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&b, "fragment F%d on Query { __typename }\n", n)
	return b.String()
}

// A fragment bomb within the token limit is refused as too complex, and
// promptly: gqlgen's complexity walker alone would take 2^95 steps.
func TestFragmentBomb(t *testing.T) {
	h := newHandler(t, Options{})
	done := make(chan answer, 1)
	go func() { done <- do(t, h, request{query: fragmentBomb(95)}) }()
	select {
	case a := <-done:
		if a.status != 400 || a.reply.code() != CodeComplexityLimit || !strings.Contains(a.reply.Errors[0].Message, "at least 2147483647") {
			t.Errorf("%d %s", a.status, a.raw)
		}
	case <-time.After(time.Minute):
		t.Fatal("no answer in a minute: the complexity walk expands fragments")
	}
	mustServe(t, h)
}

// The walker's complexity is gqlgen's, on queries gqlgen can afford.
func TestWalkerMatchesGqlgenComplexity(t *testing.T) {
	es := gen.NewExecutableSchema(gen.Config{Resolvers: resolver{}})
	for _, q := range []string{
		`{ echo(message: "x") }`,
		`{ a: echo(message: "x") b: compute(rounds: 1) __typename }`,
		"{ " + nest(4, `payload(bytes: 1)`) + " }",
		aliases(7, nest(2, `sleep(ms: 1) __typename`)),
		`query { ...A ...A tools { ... on Tools { tools { echo(message: "x") } } } } fragment A on Query { tools { __typename ...B } } fragment B on Tools { echo(message: "y") tools { __typename } }`,
		fragmentBomb(12),
		`{ __type(name: "Tools") { name fields { name type { name ofType { name } } } } }`,
		`{ __schema { types { name } } echo(message: "x") }`,
		introspectionQuery,
	} {
		doc, err := gqlparser.LoadQuery(es.Schema(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		op := doc.Operations[0]
		want := complexity.Calculate(context.Background(), es, op, nil)
		w := walker{introspection: true, doc: doc}
		if got := w.selectionSet(op.SelectionSet); got.cost != want {
			t.Errorf("%.80s: complexity %d, gqlgen's %d", q, got.cost, want)
		}
	}
}
