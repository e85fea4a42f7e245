package fast

// Input-required results (SEP-2322, "multi round-trip requests"): in
// 2026-07-28 a stateless server does not send requests of its own to the
// client. A tool that needs the user (elicitation), the client's model
// (sampling) or its roots answers with resultType "input_required" and the
// requests it wants answered; the client retries the call with
// inputResponses (and the requestState the server gave, if any), and the
// server either completes or asks again.
//
// The server remembers nothing between rounds: what it must know travels in
// requestState, sealed by a fixtures.Sealer (an HMAC under a key made in New)
// so that a changed or invented state is refused (-32602) instead of
// trusted. What the tools ask and answer is the data of package fixtures.

import (
	"encoding/json"
	"fmt"
	"strings"

	fixdata "github.com/mcpbench/mcpbench/servers/mcp/fixtures"
)

// inputRequired is an InputRequiredResult's own members.
type inputRequired struct {
	InputRequests asks   `json:"inputRequests"`
	RequestState  string `json:"requestState,omitempty"`
}

// inputRequest is a request the server wants the client to answer.
type inputRequest struct {
	Method string `json:"method"`
	Params any    `json:"params"`
}

func askFor(state string, requests asks) answer {
	return answer{inputRequired: true, result: inputRequired{InputRequests: requests, RequestState: state}}
}

// asks is the input requests of an input-required result, by key.
type asks map[string]inputRequest

// elicit is e as an input request: elicitation/create.
func (a asks) elicit(e fixdata.Elicit) asks {
	a[e.Key] = inputRequest{Method: "elicitation/create", Params: map[string]any{
		"message": e.Message, "requestedSchema": e.Schema,
	}}
	return a
}

// sample is s as an input request: sampling/createMessage of one user text.
func (a asks) sample(s fixdata.Sample) asks {
	a[s.Key] = inputRequest{Method: "sampling/createMessage", Params: map[string]any{
		"messages":  []any{map[string]any{"role": "user", "content": textContent(s.Text)}},
		"maxTokens": s.MaxTokens,
	}}
	return a
}

// roots asks for the client's roots (roots/list, without parameters).
func (a asks) roots() asks {
	a[fixdata.RootsKey] = inputRequest{Method: "roots/list", Params: struct{}{}}
	return a
}

// responses returns the request's inputResponses: none when absent or null,
// and an error when they are not an object of objects (a response is always
// a result object: ElicitResult, CreateMessageResult, ListRootsResult).
func (fc *fixCall) responses() (map[string]json.RawMessage, *rpcError) {
	raw := fc.req.InputResponses
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, invalidParams("inputResponses must be an object")
	}
	for k, v := range m {
		if len(v) == 0 || v[0] != '{' {
			return nil, invalidParams("inputResponses[%q] must be a result object", k)
		}
	}
	return m, nil
}

// acceptedField returns field of an ElicitResult the user accepted, if it is
// a non-empty string.
func acceptedField(resp json.RawMessage, field string) (string, bool) {
	var r struct {
		Action  string         `json:"action"`
		Content map[string]any `json:"content"`
	}
	if json.Unmarshal(resp, &r) != nil || r.Action != "accept" {
		return "", false
	}
	s, ok := r.Content[field].(string)
	return s, ok && s != ""
}

// accepted reports whether resp is an ElicitResult the user accepted.
func accepted(resp json.RawMessage) bool {
	var r struct {
		Action string `json:"action"`
	}
	return json.Unmarshal(resp, &r) == nil && r.Action == "accept"
}

// sampledText returns the first text of a CreateMessageResult, whose content
// is one block or (with tools) a list of them.
func sampledText(resp json.RawMessage) (string, bool) {
	var r struct {
		Content json.RawMessage `json:"content"`
	}
	if json.Unmarshal(resp, &r) != nil {
		return "", false
	}
	var blocks []content
	if json.Unmarshal(r.Content, &blocks) != nil {
		var one content
		if json.Unmarshal(r.Content, &one) != nil {
			return "", false
		}
		blocks = []content{one}
	}
	for _, b := range blocks {
		if b.Type == "text" {
			return b.Text, true
		}
	}
	return "", false
}

// rootURIs returns the URIs of a ListRootsResult.
func rootURIs(resp json.RawMessage) ([]string, bool) {
	var r struct {
		Roots []struct {
			URI string `json:"uri"`
		} `json:"roots"`
	}
	if json.Unmarshal(resp, &r) != nil || r.Roots == nil {
		return nil, false
	}
	uris := make([]string, len(r.Roots))
	for i, root := range r.Roots {
		uris[i] = root.URI
	}
	return uris, true
}

// roundState is what an input-required tool keeps between rounds, in its
// requestState: the tool it was sealed for, the round it asks in, and what
// round one learnt (the multi-round tool's name).
type roundState struct {
	Tool  string `json:"tool"`
	Round int    `json:"round"`
	Name  string `json:"name,omitempty"`
}

// seal makes the requestState that carries st: readable by anyone,
// forgeable by no one without this server's key.
func (f *fixtures) seal(st roundState) string {
	b, err := json.Marshal(st)
	if err != nil {
		panic("fast: fixture state does not encode: " + err.Error())
	}
	return f.sealer.Seal(string(b))
}

// open returns the state the request brings back: the zero state (round 0)
// if it brings none. A state that fails the Sealer's check is refused with
// invalid params, and so is one sealed for another tool: to this tool, it
// did not come from here either.
func (f *fixtures) open(fc *fixCall) (roundState, *rpcError) {
	var st roundState
	if fc.req.RequestState == nil {
		return st, nil
	}
	s, err := f.sealer.Open(*fc.req.RequestState)
	if err == nil && json.Unmarshal([]byte(s), &st) == nil && st.Tool == fc.req.Name && st.Round > 0 {
		return st, nil
	}
	return roundState{}, invalidParams("%v", fixdata.ErrBadState)
}

// begin checks what every input-required tool needs before it looks at the
// answers: the client capabilities it asks through (names), and the
// inputResponses.
func (fc *fixCall) begin(names ...string) (map[string]json.RawMessage, *rpcError) {
	if err := fc.requireCapabilities(names...); err != nil {
		return nil, err
	}
	return fc.responses()
}

// beginRound is begin for the tools that carry a requestState, and opens
// it too. (The others ignore one, as they never issue one.)
func (f *fixtures) beginRound(fc *fixCall, names ...string) (map[string]json.RawMessage, roundState, *rpcError) {
	resps, err := fc.begin(names...)
	if err != nil {
		return nil, roundState{}, err
	}
	st, err := f.open(fc)
	return resps, st, err
}

// mrtrElicitation asks the user's name, then greets. A retry without an
// accepted name (a wrong key, a missing one) is asked again rather than
// refused, as SEP-2322 recommends.
func mrtrElicitation(f *fixtures, fc *fixCall) answer {
	resps, err := fc.begin("elicitation")
	if err != nil {
		return answer{err: err}
	}
	if name, ok := acceptedField(resps[fixdata.AskName.Key], "name"); ok {
		return toolText(fmt.Sprintf(fixdata.GreetingFormat, name))
	}
	return askFor("", asks{}.elicit(fixdata.AskName))
}

func mrtrSampling(f *fixtures, fc *fixCall) answer {
	resps, err := fc.begin("sampling")
	if err != nil {
		return answer{err: err}
	}
	if text, ok := sampledText(resps[fixdata.AskCapital.Key]); ok {
		return toolText(fmt.Sprintf(fixdata.SamplingFormat, text))
	}
	return askFor("", asks{}.sample(fixdata.AskCapital))
}

func mrtrListRoots(f *fixtures, fc *fixCall) answer {
	resps, err := fc.begin("roots")
	if err != nil {
		return answer{err: err}
	}
	if uris, ok := rootURIs(resps[fixdata.RootsKey]); ok {
		return toolText(fmt.Sprintf(fixdata.RootsFormat, len(uris), strings.Join(uris, ", ")))
	}
	return askFor("", asks{}.roots())
}

// confirmWithState asks for a confirmation and completes only when the
// retry brings both the confirmation and the sealed state back. The
// request-state tool and the tampered-state tool are both this one: the
// scenario of the second alters the state.
func confirmWithState(f *fixtures, fc *fixCall) answer {
	resps, st, err := f.beginRound(fc, "elicitation")
	if err != nil {
		return answer{err: err}
	}
	if st.Round == 1 && accepted(resps[fixdata.AskConfirm.Key]) {
		return toolText(fixdata.RequestStateOK)
	}
	return askFor(f.seal(roundState{Tool: fc.req.Name, Round: 1}), asks{}.elicit(fixdata.AskConfirm))
}

// mrtrMultipleInputs asks the user, the model and the roots in one round.
func mrtrMultipleInputs(f *fixtures, fc *fixCall) answer {
	resps, st, err := f.beginRound(fc, "elicitation", "sampling", "roots")
	if err != nil {
		return answer{err: err}
	}
	if st.Round == 1 {
		name, ok1 := acceptedField(resps[fixdata.AskName.Key], "name")
		greeting, ok2 := sampledText(resps[fixdata.AskGreeting.Key])
		uris, ok3 := rootURIs(resps[fixdata.RootsKey])
		if ok1 && ok2 && ok3 {
			return toolText(fmt.Sprintf(fixdata.MultipleFormat, greeting, name, len(uris)))
		}
	}
	return askFor(f.seal(roundState{Tool: fc.req.Name, Round: 1}),
		asks{}.elicit(fixdata.AskName).sample(fixdata.AskGreeting).roots())
}

// mrtrMultiRound asks a name, then a colour, the state carrying the round
// and the name from one to the next. A round whose answer is missing is
// asked again.
func mrtrMultiRound(f *fixtures, fc *fixCall) answer {
	resps, st, err := f.beginRound(fc, "elicitation")
	if err != nil {
		return answer{err: err}
	}
	switch st.Round {
	case 1:
		if name, ok := acceptedField(resps[fixdata.AskStep1.Key], "name"); ok {
			st = roundState{Tool: fc.req.Name, Round: 2, Name: name}
		}
	case 2:
		if color, ok := acceptedField(resps[fixdata.AskStep2.Key], "color"); ok {
			return toolText(fmt.Sprintf(fixdata.MultiRoundFormat, st.Name, color))
		}
	}
	if st.Round == 2 {
		return askFor(f.seal(st), asks{}.elicit(fixdata.AskStep2))
	}
	return askFor(f.seal(roundState{Tool: fc.req.Name, Round: 1}), asks{}.elicit(fixdata.AskStep1))
}

// mrtrCapabilities asks only what the client declared it can answer.
func mrtrCapabilities(f *fixtures, fc *fixCall) answer {
	resps, err := fc.begin()
	if err != nil {
		return answer{err: err}
	}
	if len(resps) > 0 {
		return toolText(fixdata.CapabilitiesDone)
	}
	a := asks{}
	if fc.hasCapability("elicitation") {
		a.elicit(fixdata.AskName)
	}
	if fc.hasCapability("sampling") {
		a.sample(fixdata.AskGreeting)
	}
	if fc.hasCapability("roots") {
		a.roots()
	}
	if len(a) == 0 {
		return toolText(fixdata.CapabilitiesNone)
	}
	return askFor("", a)
}

// streamingElicitation needs the user's go-ahead. A stateful server would
// send elicitation/create on the response stream; a stateless one must not
// put requests of its own there, so it asks in an input-required result.
func streamingElicitation(f *fixtures, fc *fixCall) answer {
	resps, err := fc.begin("elicitation")
	if err != nil {
		return answer{err: err}
	}
	if _, ok := resps[fixdata.AskGoAhead.Key]; ok {
		return toolText(fixdata.StreamingText)
	}
	return askFor("", asks{}.elicit(fixdata.AskGoAhead))
}
