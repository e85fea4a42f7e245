package bench

import (
	"testing"

	"github.com/valyala/fasthttp"
)

func TestClassifyGraphQL(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   Class
	}{
		{200, `{"data":{"echo":"hello"}}`, OK},
		{200, `{"data":{"echo":"the \"errors\" word"}}`, OK},
		{200, `{"errors":[{"message":"too deep"}]}`, ClassProtocol},
		{200, `{"data":null,"errors":[]}`, OK},
		{200, `{"errors":`, ClassTransport},
		{429, `{"errors":[{"message":"slow down"}]}`, ClassRateLimited},
		{401, ``, ClassHTTP},
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
