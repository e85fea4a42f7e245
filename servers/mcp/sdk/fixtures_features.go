package sdk

// The fixture resources, resource template, prompts and completions.

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpbench/mcpbench/servers/mcp/fixtures"
)

func (f *fixtureServer) addResources() {
	for _, r := range fixtures.Resources {
		f.s.AddResource(&mcp.Resource{URI: r.URI, Name: r.Name, Description: r.Description, MIMEType: r.MIMEType}, readResource)
	}
	f.s.AddResourceTemplate(&mcp.ResourceTemplate{
		URITemplate: fixtures.TemplateURI, Name: fixtures.TemplateName,
		Description: fixtures.TemplateDescription, MIMEType: fixtures.TemplateMIME,
	}, readResource)
}

// readResource reads any fixture resource. The SDK routes only the URIs it
// has registered (or that match the template) here and answers others with
// its resource-not-found error.
func readResource(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	c := &mcp.ResourceContents{URI: uri}
	switch uri {
	case fixtures.StaticTextURI:
		c.MIMEType, c.Text = "text/plain", fixtures.StaticText
	case fixtures.StaticBinaryURI:
		c.MIMEType, c.Blob = "image/png", fixturePNG
	case fixtures.WatchedURI:
		c.MIMEType, c.Text = "text/plain", fixtures.WatchedText
	default:
		id, ok := fixtures.TemplateID(uri)
		if !ok {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		c.MIMEType, c.Text = fixtures.TemplateMIME, fixtures.TemplateText(id)
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{c}}, nil
}

// knownResource is nil for a URI one can subscribe to: a fixture resource
// or one the template names. None ever changes, so a subscription never
// gets an update; it is accepted, as the spec asks, all the same.
func knownResource(uri string) error {
	if _, ok := fixtures.TemplateID(uri); ok {
		return nil
	}
	for _, r := range fixtures.Resources {
		if r.URI == uri {
			return nil
		}
	}
	return mcp.ResourceNotFoundError(uri)
}

func (f *fixtureServer) addPrompts() {
	for _, p := range fixtures.Prompts {
		f.addPrompt(p)
	}
}

func (f *fixtureServer) addPrompt(p fixtures.Prompt) {
	args := make([]*mcp.PromptArgument, len(p.Arguments))
	for i, a := range p.Arguments {
		args[i] = &mcp.PromptArgument{Name: a.Name, Description: a.Description, Required: true}
	}
	f.s.AddPrompt(&mcp.Prompt{Name: p.Name, Title: p.Title, Description: p.Description, Arguments: args}, getPrompt)
}

// getPrompt answers prompts/get for every fixture prompt. The SDK checks
// the name and that required arguments are present before it gets here.
func getPrompt(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	args := req.Params.Arguments
	user := func(c mcp.Content) *mcp.PromptMessage { return &mcp.PromptMessage{Role: "user", Content: c} }
	switch req.Params.Name {
	case fixtures.SimplePrompt:
		return &mcp.GetPromptResult{Description: fixtures.SimplePromptResult, Messages: []*mcp.PromptMessage{
			user(text(fixtures.SimplePromptText))}}, nil
	case fixtures.ArgsPrompt:
		return &mcp.GetPromptResult{Description: fixtures.ArgsPromptResult, Messages: []*mcp.PromptMessage{
			user(text(fmt.Sprintf(fixtures.ArgsPromptFormat, args["arg1"], args["arg2"])))}}, nil
	case fixtures.ResourcePrompt:
		return &mcp.GetPromptResult{Description: fixtures.ResourcePromptResult, Messages: []*mcp.PromptMessage{
			user(embedded(args["resourceUri"], "text/plain", fixtures.ResourcePromptText)),
			user(text(fixtures.ResourcePromptRequest))}}, nil
	case fixtures.ImagePrompt:
		return &mcp.GetPromptResult{Description: fixtures.ImagePromptResult, Messages: []*mcp.PromptMessage{
			user(&mcp.ImageContent{Data: fixturePNG, MIMEType: "image/png"}),
			user(text(fixtures.ImagePromptRequest))}}, nil
	case fixtures.InputPrompt:
		return askContext(ctx, req)
	}
	return nil, fmt.Errorf("sdk: no fixture prompt %q", req.Params.Name)
}

// complete offers the fixture completions that start with what the client
// typed, for any argument of any prompt or template.
func complete(_ context.Context, req *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
	typed := req.Params.Argument.Value
	values := slices.DeleteFunc(slices.Clone(fixtures.Completions), func(v string) bool {
		return !strings.HasPrefix(v, typed)
	})
	return &mcp.CompleteResult{Completion: mcp.CompletionResultDetails{Values: values, Total: len(values)}}, nil
}
