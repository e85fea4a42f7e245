package sdk

// The input-required fixtures that carry a requestState between rounds,
// sealed (HMAC) so that a stateless server can trust what comes back.

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpbench/mcpbench/servers/mcp/fixtures"
)

// errOtherTool is a well-sealed state minted for another fixture tool.
var errOtherTool = errors.New("requestState belongs to another tool")

// A roundState is what a fixture keeps between rounds, in its requestState.
type roundState struct {
	Tool  string `json:"tool"` // the tool it was minted for
	Round int    `json:"round"`
	Name  string `json:"name,omitempty"` // learnt in round one of the multi-round tool
}

func (f *fixtureServer) seal(st roundState) string {
	b, _ := json.Marshal(st)
	return f.sealer.Seal(string(b))
}

// open returns the state a request brings back: the zero state (round 0)
// if it brings none, an invalid-params error if it was tampered with or
// minted for another tool.
func (f *fixtureServer) open(req *mcp.CallToolRequest) (roundState, error) {
	var st roundState
	if req.Params.RequestState == "" {
		return st, nil
	}
	s, err := f.sealer.Open(req.Params.RequestState)
	if err != nil {
		return st, badState(err)
	}
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		return st, badState(err)
	}
	if st.Tool != req.Params.Name {
		return st, badState(errOtherTool)
	}
	return st, nil
}

// askConfirm asks for a confirmation, with a sealed state, and completes
// when both come back. A state that does not verify is refused (the
// tampered-state scenario); a retry without the confirmation is asked again.
func (f *fixtureServer) askConfirm(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	st, err := f.open(req)
	if err != nil {
		return nil, err
	}
	if st.Round == 1 && accepted(req.Params.InputResponses, fixtures.AskConfirm.Key) != nil {
		return textResult("%s", fixtures.RequestStateOK), nil
	}
	return inputRequired(f.seal(roundState{Tool: req.Params.Name, Round: 1}),
		mcp.InputRequestMap{fixtures.AskConfirm.Key: elicitParams(fixtures.AskConfirm)}), nil
}

// askEverything asks for a name, a greeting and the roots in one round,
// and completes when all three come back with its state.
func (f *fixtureServer) askEverything(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	st, err := f.open(req)
	if err != nil {
		return nil, err
	}
	in := req.Params.InputResponses
	name := acceptedString(in, fixtures.AskName.Key, "name")
	greeting, greeted := sampled(in, fixtures.AskGreeting.Key)
	uris, rooted := rootURIs(in, fixtures.RootsKey)
	if st.Round == 1 && name != "" && greeted && rooted {
		return textResult(fixtures.MultipleFormat, greeting, name, len(uris)), nil
	}
	return inputRequired(f.seal(roundState{Tool: req.Params.Name, Round: 1}), mcp.InputRequestMap{
		fixtures.AskName.Key:     elicitParams(fixtures.AskName),
		fixtures.AskGreeting.Key: sampleParams(fixtures.AskGreeting),
		fixtures.RootsKey:        &mcp.ListRootsParams{},
	}), nil
}

// askTwoRounds asks for a name, then for a colour, and completes with both.
// The name of round one travels in the state of round two: the server
// keeps nothing. A round whose answer is missing is asked again.
func (f *fixtureServer) askTwoRounds(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	st, err := f.open(req)
	if err != nil {
		return nil, err
	}
	in := req.Params.InputResponses
	name := acceptedString(in, fixtures.AskStep1.Key, "name")
	color := acceptedString(in, fixtures.AskStep2.Key, "color")
	switch {
	case st.Round == 2 && color != "":
		return textResult(fixtures.MultiRoundFormat, st.Name, color), nil
	case st.Round == 1 && name != "":
		st = roundState{Tool: req.Params.Name, Round: 2, Name: name}
	case st.Round != 2:
		return inputRequired(f.seal(roundState{Tool: req.Params.Name, Round: 1}),
			mcp.InputRequestMap{fixtures.AskStep1.Key: elicitParams(fixtures.AskStep1)}), nil
	}
	return inputRequired(f.seal(st), mcp.InputRequestMap{fixtures.AskStep2.Key: elicitParams(fixtures.AskStep2)}), nil
}
