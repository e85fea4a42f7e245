package httpcall

import (
	"testing"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/valyala/fasthttp"
)

func TestClassifyGraphQL(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   bench.Class
	}{
		{200, `{"data":{"echo":"hello"}}`, bench.OK},
		{200, `{"data":{"echo":"the \"errors\" word"}}`, bench.OK},
		{200, `{"errors":[{"message":"too deep"}]}`, bench.ClassProtocol},
		{200, `{"data":null,"errors":[]}`, bench.OK},
		{200, `{"errors":`, bench.ClassTransport},
		{429, `{"errors":[{"message":"slow down"}]}`, bench.ClassRateLimited},
		{401, ``, bench.ClassHTTP},
	} {
		var r fasthttp.Response
		r.SetStatusCode(tc.status)
		r.SetBodyString(tc.body)
		if got := ClassifyGraphQL(&r).Class; got != tc.want {
			t.Errorf("%d %s: %v, want %v", tc.status, tc.body, got, tc.want)
		}
	}
	if _, err := NewGraphQL(GraphQLConfig{URL: "http://127.0.0.1:1/graphql"}); err == nil {
		t.Error("a driver without a query")
	}
}
