package httpcall

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/valyala/fasthttp"
)

// GraphQLConfig describes the GraphQL request a driver repeats.
type GraphQLConfig struct {
	URL         string         // http://host:port/graphql
	Query       string         // e.g. `{ echo(message: "hello") }`
	Variables   map[string]any // optional
	Header      []driver.Header
	Auth        driver.Authorizer // credentials per call, as Config.Auth
	Connections int
	// TLS, NewConnPerCall and HTTP2 are as Config's.
	TLS            *tls.Config
	NewConnPerCall bool
	HTTP2          bool
}

// NewGraphQL returns an HTTP driver that POSTs the query and counts a
// reply with "errors" as ClassProtocol (GraphQL reports failures in a 200).
func NewGraphQL(cfg GraphQLConfig) (*Driver, error) {
	if cfg.Query == "" {
		return nil, fmt.Errorf("%w: a GraphQL driver needs a query", bench.ErrConfig)
	}
	body, err := json.Marshal(map[string]any{"query": cfg.Query, "variables": cfg.Variables})
	if err != nil {
		return nil, fmt.Errorf("%w: GraphQL variables: %v", bench.ErrConfig, err)
	}
	return New(Config{
		URL: cfg.URL, Method: "POST", Body: body, Connections: cfg.Connections, Auth: cfg.Auth,
		Header:   append([]driver.Header{{Name: "Content-Type", Value: "application/json"}, {Name: "Accept", Value: "application/graphql-response+json, application/json"}}, cfg.Header...),
		Classify: ClassifyGraphQL, TLS: cfg.TLS, NewConnPerCall: cfg.NewConnPerCall, HTTP2: cfg.HTTP2,
	})
}

var errorsKey = []byte(`"errors"`)

// ClassifyGraphQL is ClassifyStatus, and then a reply whose top-level
// "errors" is non-empty is ClassProtocol.
func ClassifyGraphQL(resp *fasthttp.Response) bench.Outcome {
	o := driver.ClassifyStatus(resp)
	if o.Class != bench.OK {
		return o
	}
	body := resp.Body()
	if !bytes.Contains(body, errorsKey) { // the common case costs a scan, no decoding
		return o
	}
	var r struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return bench.Outcome{Class: bench.ClassTransport}
	}
	if len(r.Errors) > 0 {
		return bench.Outcome{Class: bench.ClassProtocol}
	}
	return o
}

// RESTCall returns the HTTP configuration of one REST tool call: POST
// base/{tool} with the arguments as a JSON body (servers/rest, and the
// gateways in front of it).
func RESTCall(base, tool string, args []byte) Config {
	return Config{URL: base + "/" + tool, Method: "POST", Body: args,
		Header: []driver.Header{{Name: "Content-Type", Value: "application/json"}}}
}
