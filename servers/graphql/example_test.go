package graphql_test

import (
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/mcpbench/mcpbench/servers/graphql"
)

func ExampleNewHandler() {
	h, err := graphql.NewHandler(graphql.Options{}) // auth none, default limits
	if err != nil {
		panic(err)
	}
	for _, q := range []string{
		`{"query": "{ echo(message: \"hello\") }"}`,
		`{"query": "{ compute(rounds: -1) }"}`,
		`{"query": "{ tools { tools { tools { tools { tools { echo(message: \"deep\") } } } } } }"}`,
	} {
		req := httptest.NewRequest("POST", "http://127.0.0.1:8080/graphql", strings.NewReader(q))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 200 {"data":{"echo":"hello"}}
	// 200 {"errors":[{"message":"compute: \"rounds\" is -1; want 0 to 1000000","path":["compute"],"locations":[{"line":1,"column":3}],"extensions":{"code":"BAD_USER_INPUT"}}],"data":null}
	// 422 {"errors":[{"message":"operation has depth 6, which exceeds the limit of 5","locations":[{"line":1,"column":1}],"extensions":{"code":"DEPTH_LIMIT_EXCEEDED"}}],"data":null}
}
