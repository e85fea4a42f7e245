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
// requestState, sealed with an HMAC so that a changed or invented state is
// refused (-32602) instead of trusted.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// inputRequired is an InputRequiredResult's own members.
type inputRequired struct {
	InputRequests map[string]inputRequest `json:"inputRequests"`
	RequestState  string                  `json:"requestState,omitempty"`
}

// inputRequest is a request the server wants the client to answer.
type inputRequest struct {
	Method string `json:"method"`
	Params any    `json:"params"`
}

func askFor(state string, requests map[string]inputRequest) answer {
	return answer{inputRequired: true, result: inputRequired{InputRequests: requests, RequestState: state}}
}

// elicit asks the user for one field of type typ.
func elicit(message, field, typ string) inputRequest {
	return inputRequest{Method: "elicitation/create", Params: map[string]any{
		"message": message,
		"requestedSchema": map[string]any{
			"type":       "object",
			"properties": map[string]any{field: map[string]string{"type": typ}},
			"required":   []string{field},
		},
	}}
}

// sample asks the client's model one question.
func sample(question string, maxTokens int) inputRequest {
	return inputRequest{Method: "sampling/createMessage", Params: map[string]any{
		"messages":  []any{map[string]any{"role": "user", "content": textContent(question)}},
		"maxTokens": maxTokens,
	}}
}

func listRoots() inputRequest { return inputRequest{Method: "roots/list", Params: struct{}{}} }

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

// seal makes a requestState holding data for tool: the data and an
// HMAC-SHA256 over the tool's name and the data, both base64url. It is
// readable by anyone, forgeable by no one without the server's key.
func (f *fixtures) seal(tool string, data any) string {
	b, err := json.Marshal(data)
	if err != nil {
		panic("fast: fixture state does not encode: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(f.mac(tool, b))
}

// open checks a requestState made by seal for tool and decodes its data
// into v.
func (f *fixtures) open(tool, state string, v any) *rpcError {
	bad := invalidParams("requestState failed its integrity check")
	d, m, ok := strings.Cut(state, ".")
	if !ok {
		return bad
	}
	data, err1 := base64.RawURLEncoding.DecodeString(d)
	mac, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, f.mac(tool, data)) || json.Unmarshal(data, v) != nil {
		return bad
	}
	return nil
}

func (f *fixtures) mac(tool string, data []byte) []byte {
	h := hmac.New(sha256.New, f.key)
	h.Write([]byte(tool))
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

// mrtrElicitation asks the user's name, then greets. A retry without an
// accepted name (a wrong key, a missing one) is asked again rather than
// refused, as SEP-2322 recommends.
func mrtrElicitation(_ *fixtures, fc *fixCall) answer {
	if err := fc.requireCapabilities("elicitation"); err != nil {
		return answer{err: err}
	}
	resps, err := fc.responses()
	if err != nil {
		return answer{err: err}
	}
	if name, ok := acceptedField(resps["user_name"], "name"); ok {
		return toolText("Hello, " + name + "!")
	}
	return askFor("", map[string]inputRequest{"user_name": elicit("What is your name?", "name", "string")})
}

func mrtrSampling(_ *fixtures, fc *fixCall) answer {
	if err := fc.requireCapabilities("sampling"); err != nil {
		return answer{err: err}
	}
	resps, err := fc.responses()
	if err != nil {
		return answer{err: err}
	}
	if text, ok := sampledText(resps["capital_question"]); ok {
		return toolText("The model answered: " + text)
	}
	return askFor("", map[string]inputRequest{"capital_question": sample("What is the capital of France?", 100)})
}

func mrtrListRoots(_ *fixtures, fc *fixCall) answer {
	if err := fc.requireCapabilities("roots"); err != nil {
		return answer{err: err}
	}
	resps, err := fc.responses()
	if err != nil {
		return answer{err: err}
	}
	if uris, ok := rootURIs(resps["client_roots"]); ok {
		return toolText(fmt.Sprintf("The client has %d root(s): %s", len(uris), strings.Join(uris, ", ")))
	}
	return askFor("", map[string]inputRequest{"client_roots": listRoots()})
}

// mrtrRequestState asks for a confirmation and completes only when the
// retry brings both the confirmation and the sealed state back.
func mrtrRequestState(f *fixtures, fc *fixCall) answer {
	return confirmWithState(f, fc, "state-ok: the requestState came back intact and the user confirmed")
}

// mrtrTamperedState is mrtrRequestState under another name: the scenario
// that alters the state calls this one.
func mrtrTamperedState(f *fixtures, fc *fixCall) answer {
	return confirmWithState(f, fc, "the requestState came back intact and the user confirmed")
}

func confirmWithState(f *fixtures, fc *fixCall, done string) answer {
	if err := fc.requireCapabilities("elicitation"); err != nil {
		return answer{err: err}
	}
	resps, err := fc.responses()
	if err != nil {
		return answer{err: err}
	}
	if st := fc.req.RequestState; st != nil {
		var step string
		if err := f.open(fc.req.Name, *st, &step); err != nil {
			return answer{err: err}
		}
		if accepted(resps["confirm"]) {
			return toolText(done)
		}
	}
	return askFor(f.seal(fc.req.Name, "confirm"), map[string]inputRequest{"confirm": elicit("Please confirm", "ok", "boolean")})
}

// mrtrMultipleInputs asks the user, the model and the roots in one round.
func mrtrMultipleInputs(f *fixtures, fc *fixCall) answer {
	if err := fc.requireCapabilities("elicitation", "sampling", "roots"); err != nil {
		return answer{err: err}
	}
	resps, err := fc.responses()
	if err != nil {
		return answer{err: err}
	}
	if st := fc.req.RequestState; st != nil {
		var step string
		if err := f.open(fc.req.Name, *st, &step); err != nil {
			return answer{err: err}
		}
		name, ok1 := acceptedField(resps["user_name"], "name")
		greeting, ok2 := sampledText(resps["greeting"])
		uris, ok3 := rootURIs(resps["client_roots"])
		if ok1 && ok2 && ok3 {
			return toolText(fmt.Sprintf("%s %s (%d root(s))", greeting, name, len(uris)))
		}
	}
	return askFor(f.seal(fc.req.Name, "all"), map[string]inputRequest{
		"user_name":    elicit("What is your name?", "name", "string"),
		"greeting":     sample("Write a one-line greeting.", 50),
		"client_roots": listRoots(),
	})
}

// multiRound is the state of mrtrMultiRound between rounds.
type multiRound struct {
	Round int    `json:"round"`
	Name  string `json:"name,omitempty"`
}

// mrtrMultiRound asks a name, then a colour, the state carrying the round
// and the name from one to the next.
func mrtrMultiRound(f *fixtures, fc *fixCall) answer {
	if err := fc.requireCapabilities("elicitation"); err != nil {
		return answer{err: err}
	}
	resps, err := fc.responses()
	if err != nil {
		return answer{err: err}
	}
	st := multiRound{Round: 1}
	if fc.req.RequestState != nil {
		if err := f.open(fc.req.Name, *fc.req.RequestState, &st); err != nil {
			return answer{err: err}
		}
		if st.Round == 1 {
			if name, ok := acceptedField(resps["step1"], "name"); ok {
				st = multiRound{Round: 2, Name: name}
			}
		} else if color, ok := acceptedField(resps["step2"], "color"); ok {
			return toolText(st.Name + " likes " + color)
		}
	}
	if st.Round == 2 {
		return askFor(f.seal(fc.req.Name, st), map[string]inputRequest{"step2": elicit("Step 2: What is your favorite color?", "color", "string")})
	}
	return askFor(f.seal(fc.req.Name, st), map[string]inputRequest{"step1": elicit("Step 1: What is your name?", "name", "string")})
}

// mrtrCapabilities asks only what the client declared it can answer.
func mrtrCapabilities(_ *fixtures, fc *fixCall) answer {
	resps, err := fc.responses()
	if err != nil {
		return answer{err: err}
	}
	if len(resps) > 0 {
		return toolText(fmt.Sprintf("received %d input response(s)", len(resps)))
	}
	reqs := map[string]inputRequest{}
	if fc.hasCapability("elicitation") {
		reqs["user_name"] = elicit("What is your name?", "name", "string")
	}
	if fc.hasCapability("sampling") {
		reqs["greeting"] = sample("Write a one-line greeting.", 50)
	}
	if fc.hasCapability("roots") {
		reqs["client_roots"] = listRoots()
	}
	if len(reqs) == 0 {
		return toolText("the client declared no capability to ask anything of")
	}
	return askFor("", reqs)
}

// streamingElicitation needs the user's go-ahead. A stateful server would
// send elicitation/create on the response stream; a stateless one must not
// put requests of its own there, so it asks in an input-required result.
func streamingElicitation(_ *fixtures, fc *fixCall) answer {
	if err := fc.requireCapabilities("elicitation"); err != nil {
		return answer{err: err}
	}
	resps, err := fc.responses()
	if err != nil {
		return answer{err: err}
	}
	if _, ok := resps["go_ahead"]; ok {
		return toolText("the user answered; the stream carried no request of the server's")
	}
	return askFor("", map[string]inputRequest{"go_ahead": elicit("Go ahead?", "ok", "boolean")})
}
