package graphql

import (
	"context"
	"errors"

	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/mcpbench/mcpbench/servers/graphql/internal/gen"
	"github.com/mcpbench/mcpbench/servers/graphql/internal/model"
	"github.com/mcpbench/mcpbench/servers/tools"
)

// resolver is the schema's resolver root: every field calls servers/tools
// and nothing else. It holds no state.
type resolver struct{}

var (
	_ gen.ResolverRoot  = resolver{}
	_ gen.QueryResolver = queryResolver{}
	_ gen.ToolsResolver = toolsResolver{}
)

func (resolver) Query() gen.QueryResolver { return queryResolver{} }
func (resolver) Tools() gen.ToolsResolver { return toolsResolver{} }

// theTools is the one Tools object; it has no state, so every level of
// nesting shares it.
var theTools = &model.Tools{}

type queryResolver struct{}

func (queryResolver) Echo(_ context.Context, message string) (string, error) {
	return result(tools.Echo(message))
}
func (queryResolver) Compute(_ context.Context, rounds int) (string, error) {
	return result(tools.Compute(rounds))
}
func (queryResolver) Payload(_ context.Context, bytes int) (string, error) {
	return result(tools.Payload(bytes))
}
func (queryResolver) Sleep(ctx context.Context, ms int) (string, error) {
	return result(tools.Sleep(ctx, ms))
}
func (queryResolver) Tools(context.Context) (*model.Tools, error) { return theTools, nil }

type toolsResolver struct{}

func (toolsResolver) Echo(ctx context.Context, _ *model.Tools, message string) (string, error) {
	return queryResolver{}.Echo(ctx, message)
}
func (toolsResolver) Compute(ctx context.Context, _ *model.Tools, rounds int) (string, error) {
	return queryResolver{}.Compute(ctx, rounds)
}
func (toolsResolver) Payload(ctx context.Context, _ *model.Tools, bytes int) (string, error) {
	return queryResolver{}.Payload(ctx, bytes)
}
func (toolsResolver) Sleep(ctx context.Context, _ *model.Tools, ms int) (string, error) {
	return queryResolver{}.Sleep(ctx, ms)
}
func (toolsResolver) Tools(context.Context, *model.Tools) (*model.Tools, error) { return theTools, nil }

// result turns a tool's refusal of its arguments into a GraphQL error
// with extensions.code BAD_USER_INPUT (gqlgen adds path and location).
func result(text string, err error) (string, error) {
	if err == nil {
		return text, nil
	}
	if ae, ok := errors.AsType[*tools.ArgError](err); ok {
		e := &gqlerror.Error{Message: ae.Error()}
		errcode.Set(e, CodeBadUserInput)
		return "", e
	}
	return "", err
}
