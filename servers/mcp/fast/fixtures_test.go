package fast

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	fixdata "github.com/mcpbench/mcpbench/servers/mcp/fixtures"
)

// allCaps declares every client capability the fixtures may ask for.
const allCaps = `{"elicitation":{},"sampling":{},"roots":{"listChanged":true}}`

// fixMetaJSON returns a 2026-07-28 _meta member with capabilities caps and any
// extra members (",\"k\":v...").
func fixMetaJSON(caps, extra string) string {
	return `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/clientCapabilities":` + caps + extra + `}`
}

// fixRequest builds a 2026-07-28 request with params {_meta, rest...}; name
// is the Mcp-Name header ("" for none).
func fixRequest(method, name, caps, metaExtra, rest string) request {
	params := fixMetaJSON(caps, metaExtra)
	if rest != "" {
		params += "," + rest
	}
	return request{hdr: modernHdr(method, name), body: `{"jsonrpc":"2.0","id":7,"method":"` + method + `","params":{` + params + `}}`}
}

// callFixture is fixRequest for tools/call of tool with arguments args.
func callFixture(tool, caps, metaExtra, args string, rest ...string) request {
	r := `"name":"` + tool + `","arguments":` + args
	for _, x := range rest {
		r += "," + x
	}
	return fixRequest("tools/call", tool, caps, metaExtra, r)
}

// result returns the result of a 200 response, failing on anything else; an
// SSE body must be one response after any notifications, returned too.
func result(t *testing.T, got response) (json.RawMessage, []string) {
	t.Helper()
	if got.status != 200 {
		t.Fatalf("status %d: %s", got.status, got.body)
	}
	body, notes := got.body, []string(nil)
	if string(got.header.ContentType()) == "text/event-stream" {
		events := parseSSE(t, got.body)
		for _, e := range events[:len(events)-1] {
			notes = append(notes, e.data)
		}
		body = []byte(events[len(events)-1].data)
	}
	m := decodeRPC(t, body)
	if m.Error != nil {
		t.Fatalf("error %d %s", m.Error.Code, m.Error.Message)
	}
	var rt struct {
		ResultType string `json:"resultType"`
		Meta       struct {
			ServerInfo *struct{ Name string } `json:"io.modelcontextprotocol/serverInfo"`
		} `json:"_meta"`
	}
	if json.Unmarshal(m.Result, &rt) != nil || (rt.ResultType != "complete" && rt.ResultType != "input_required") || rt.Meta.ServerInfo == nil {
		t.Fatalf("result without resultType or serverInfo: %s", m.Result)
	}
	return m.Result, notes
}

// rpcErrorData checks that got is an error with HTTP status and JSON-RPC code,
// and returns its data.
func rpcErrorData(t *testing.T, got response, status, code int) json.RawMessage {
	t.Helper()
	m := decodeRPC(t, got.body)
	if got.status != status || m.Error == nil || m.Error.Code != code {
		t.Fatalf("want HTTP %d with error %d, got %d: %s", status, code, got.status, got.body)
	}
	if string(m.ID) != "7" {
		t.Errorf("error id %s, want 7", m.ID)
	}
	return m.Error.Data
}

// field decodes the member path of a JSON object (a.b.0.c).
func field(t *testing.T, raw json.RawMessage, path string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i := int(k[0] - '0')
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// TestFixturesDeclared checks what a server with fixtures lists: the
// capabilities, every fixture after the benchmark tools, the prompts,
// resources and templates with caching hints; and that the answers of the
// benchmark tools and of 2025-* clients are still the golden ones.
func TestFixturesDeclared(t *testing.T) {
	c := testServer(t, Options{Fixtures: true})
	res, _ := result(t, do(t, c, fixRequest("server/discover", "", "{}", "", "")))
	for _, capability := range []string{"tools", "prompts", "resources", "completions", "logging"} {
		if field(t, res, "capabilities."+capability) == nil {
			t.Errorf("discover lacks capability %s: %s", capability, res)
		}
	}
	res, _ = result(t, do(t, c, fixRequest("tools/list", "", "{}", "", "")))
	var list struct {
		Tools []fixtureTool `json:"tools"`
	}
	if err := json.Unmarshal(res, &list); err != nil {
		t.Fatal(err)
	}
	want := []string{"echo", "compute", "payload", "sleep"}
	served, err := fixtureTools()
	if err != nil {
		t.Fatal(err)
	}
	for _, ft := range served {
		want = append(want, ft.Name)
	}
	var got []string
	for _, tl := range list.Tools {
		got = append(got, tl.Name)
		if tl.Description == "" || !json.Valid(tl.InputSchema) {
			t.Errorf("tool %s lacks a description or schema", tl.Name)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tools %v, want %v", got, want)
	}
	for method, member := range map[string]string{"prompts/list": "prompts", "resources/list": "resources", "resources/templates/list": "resourceTemplates"} {
		res, _ := result(t, do(t, c, fixRequest(method, "", "{}", "", "")))
		if items, _ := field(t, res, member).([]any); len(items) == 0 || field(t, res, "ttlMs") != 0.0 || field(t, res, "cacheScope") != "public" {
			t.Errorf("%s: %s", method, res)
		}
	}
	rpcErrorData(t, do(t, c, fixRequest("prompts/list", "", "{}", "", `"cursor":"x"`)), 400, codeInvalidParams)
	for _, gc := range goldenCases {
		if gc.reply != "json" || gc.file == "discover.json" || gc.file == "tools-list.json" || gc.file == "prompts-list.json" || gc.file == "fixture-tool.json" {
			continue
		}
		s, err := New(Options{Fixtures: true})
		if err != nil {
			t.Fatal(err)
		}
		ctx := newCtx([]byte(gc.body), gc.version, gc.method, gc.name)
		s.Handler(ctx)
		want, err := os.ReadFile(filepath.Join("testdata", "golden", gc.file))
		if err != nil || !bytes.Equal(ctx.Response.Body(), want) {
			t.Errorf("%s with fixtures: %s (%v)", gc.file, ctx.Response.Body(), err)
		}
	}
}

// TestFixtureTools calls each fixture tool that answers in one round.
func TestFixtureTools(t *testing.T) {
	for _, reply := range []string{"json", "sse"} {
		t.Run(reply, func(t *testing.T) {
			c := testServer(t, Options{Reply: reply, Fixtures: true})
			for _, tc := range []struct {
				tool, path string
				want       any
			}{
				{"test_simple_text", "content.0.text", "This is a simple text response for testing."},
				{"test_image_content", "content.0.mimeType", "image/png"},
				{"test_image_content", "content.0.data", fixdata.PNG},
				{"test_audio_content", "content.0.mimeType", "audio/wav"},
				{"test_audio_content", "content.0.data", fixdata.WAV},
				{"test_embedded_resource", "content.0.resource.uri", "test://embedded-resource"},
				{"test_multiple_content_types", "content.2.type", "resource"},
				{"test_error_handling", "isError", true},
				{"json_schema_2020_12_tool", "content.0.type", "text"},
				{"test_missing_capability", "content.0.type", "text"},
			} {
				res, notes := result(t, do(t, c, callFixture(tc.tool, allCaps, "", "{}")))
				if got := field(t, res, tc.path); got != tc.want || len(notes) > 0 {
					t.Errorf("%s: %s is %v, want %v; notes %v", tc.tool, tc.path, got, tc.want, notes)
				}
			}
			// Without arguments at all, as tools-call-simple-text sends.
			res, _ := result(t, do(t, c, fixRequest("tools/call", "test_simple_text", "{}", "", `"name":"test_simple_text"`)))
			if field(t, res, "content.0.type") != "text" {
				t.Errorf("no arguments: %s", res)
			}
		})
	}
}

// TestFixturesServed checks which tools of package fixtures this server
// serves: all but those that need a session or a stream of the server's
// own (see toolRuns), each with its schema as the package has it.
func TestFixturesServed(t *testing.T) {
	served, err := fixtureTools()
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]string{}
	for _, ft := range served {
		schemas[ft.Name] = string(ft.InputSchema)
	}
	var unserved []string
	for _, tool := range fixdata.Tools {
		schema, ok := schemas[tool.Name]
		if !ok {
			unserved = append(unserved, tool.Name)
		} else if schema != string(tool.InputSchema) {
			t.Errorf("%s: schema %s, want %s", tool.Name, schema, tool.InputSchema)
		}
	}
	want := []string{fixdata.WithLogging, fixdata.Sampling, fixdata.Elicitation, fixdata.ElicitationDefaults, fixdata.ElicitationEnums,
		fixdata.TriggerToolChange, fixdata.TriggerPromptChange, fixdata.Reconnection}
	if strings.Join(unserved, " ") != strings.Join(want, " ") {
		t.Errorf("not served: %v, want %v", unserved, want)
	}
	prompts, err := fixturePrompts()
	if err != nil || len(prompts) != len(fixdata.Prompts) {
		t.Errorf("%d prompts (%v), want all %d", len(prompts), err, len(fixdata.Prompts))
	}
}

// TestFixtureCapabilities checks the MissingRequiredClientCapability error:
// HTTP 400, code -32021, the missing capability named as an object.
func TestFixtureCapabilities(t *testing.T) {
	c := testServer(t, Options{Fixtures: true})
	data := rpcErrorData(t, do(t, c, callFixture("test_missing_capability", "{}", "", "{}")), 400, codeMissingCapability)
	if string(data) != `{"requiredCapabilities":{"sampling":{}}}` {
		t.Errorf("data %s", data)
	}
	data = rpcErrorData(t, do(t, c, callFixture("test_input_required_result_multiple_inputs", `{"sampling":{}}`, "", "{}")), 400, codeMissingCapability)
	if string(data) != `{"requiredCapabilities":{"elicitation":{},"roots":{}}}` {
		t.Errorf("data %s", data)
	}
}

// TestFixtureNotifications checks progress and logging: notifications go
// before the result in an SSE stream, even from a server with Reply json,
// and log messages only when the request set a level that admits them.
func TestFixtureNotifications(t *testing.T) {
	c := testServer(t, Options{Reply: "json", Fixtures: true})
	got := do(t, c, callFixture("test_tool_with_progress", "{}", `,"progressToken":"tok-1"`, "{}"))
	if ct := string(got.header.ContentType()); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q, want text/event-stream", ct)
	}
	_, notes := result(t, got)
	if len(notes) != 3 {
		t.Fatalf("%d notifications, want 3", len(notes))
	}
	for i, n := range notes {
		raw := json.RawMessage(n)
		if field(t, raw, "method") != "notifications/progress" || field(t, raw, "params.progressToken") != "tok-1" ||
			field(t, raw, "params.progress") != float64(50*i) || field(t, raw, "params.total") != 100.0 {
			t.Errorf("notification %d: %s", i, n)
		}
	}
	got = do(t, c, callFixture("test_tool_with_progress", "{}", "", "{}"))
	if _, notes := result(t, got); len(notes) != 0 || string(got.header.ContentType()) != "application/json" {
		t.Errorf("without a progressToken: %d notifications, Content-Type %q", len(notes), got.header.ContentType())
	}
	rpcErrorData(t, do(t, c, callFixture("test_tool_with_progress", "{}", `,"progressToken":{}`, "{}")), 400, codeInvalidParams)

	for level, want := range map[string]int{"": 0, "debug": 1, "info": 1, "warning": 0, "emergency": 0} {
		extra := ""
		if level != "" {
			extra = `,"io.modelcontextprotocol/logLevel":"` + level + `"`
		}
		_, notes := result(t, do(t, c, callFixture("test_logging_tool", "{}", extra, "{}")))
		if len(notes) != want || want == 1 && field(t, json.RawMessage(notes[0]), "params.level") != "info" {
			t.Errorf("logLevel %q: notifications %v, want %d", level, notes, want)
		}
	}
	rpcErrorData(t, do(t, c, callFixture("test_logging_tool", "{}", `,"io.modelcontextprotocol/logLevel":"loud"`, "{}")), 400, codeInvalidParams)
	// logging/setLevel is gone in 2026-07-28, fixtures or not.
	rpcErrorData(t, do(t, c, fixRequest("logging/setLevel", "", "{}", "", `"level":"info"`)), 404, codeMethodNotFound)
}

// TestFixtureParamHeaders checks SEP-2243: Mcp-Param-* headers must match
// the arguments marked x-mcp-header, plain or as =?base64?…?=.
func TestFixtureParamHeaders(t *testing.T) {
	c := testServer(t, Options{Fixtures: true})
	b64 := func(s string) string { return "=?base64?" + base64.StdEncoding.EncodeToString([]byte(s)) + "?=" }
	for _, tc := range []struct {
		name, args string
		hdr        []string
		ok         bool
	}{
		{"no mirrored arguments", `{"note":"x"}`, nil, true},
		{"plain", `{"region":"eu-west1"}`, []string{"Mcp-Param-Region", "eu-west1"}, true},
		{"base64", `{"region":"Hello"}`, []string{"Mcp-Param-Region", b64("Hello")}, true},
		{"base64 of non-ASCII", `{"region":"Grüße, 世界"}`, []string{"Mcp-Param-Region", b64("Grüße, 世界")}, true},
		{"literal without suffix", `{"region":"=?base64?SGVsbG8="}`, []string{"Mcp-Param-Region", "=?base64?SGVsbG8="}, true},
		{"literal base64 text", `{"region":"SGVsbG8="}`, []string{"Mcp-Param-Region", "SGVsbG8="}, true},
		{"integer", `{"priority":42}`, []string{"Mcp-Param-Priority", "42"}, true},
		{"boolean", `{"verbose":false}`, []string{"Mcp-Param-Verbose", "false"}, true},
		{"all three", `{"region":"a","priority":1,"verbose":true}`, []string{"Mcp-Param-Region", "a", "Mcp-Param-Priority", "1", "Mcp-Param-Verbose", "true"}, true},
		{"null argument, no header", `{"region":null}`, nil, true},
		{"missing header", `{"region":"a"}`, nil, false},
		{"header without argument", `{}`, []string{"Mcp-Param-Region", "a"}, false},
		{"different value", `{"region":"a"}`, []string{"Mcp-Param-Region", "b"}, false},
		{"base64 without padding", `{"region":"Hello"}`, []string{"Mcp-Param-Region", "=?base64?SGVsbG8?="}, false},
		{"base64 with stray characters", `{"region":"Hello"}`, []string{"Mcp-Param-Region", "=?base64?SGVs!!!bG8=?="}, false},
		{"integer differs", `{"priority":42}`, []string{"Mcp-Param-Priority", "43"}, false},
		{"boolean differs", `{"verbose":true}`, []string{"Mcp-Param-Verbose", "True"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := callFixture("test_x_mcp_header", "{}", "", tc.args)
			for i := 0; i+1 < len(tc.hdr); i += 2 {
				req.hdr[tc.hdr[i]] = tc.hdr[i+1]
			}
			got := do(t, c, req)
			if tc.ok {
				result(t, got)
			} else {
				rpcErrorData(t, got, 400, codeHeaderMismatch)
			}
		})
	}
}

// inputRequests returns the methods of an input_required result's requests
// by key, and its requestState.
func inputRequests(t *testing.T, res json.RawMessage) (map[string]string, string) {
	t.Helper()
	var r struct {
		ResultType    string `json:"resultType"`
		InputRequests map[string]struct {
			Method string `json:"method"`
		} `json:"inputRequests"`
		RequestState string `json:"requestState"`
	}
	if err := json.Unmarshal(res, &r); err != nil || r.ResultType != "input_required" {
		t.Fatalf("want an input_required result, got %s", res)
	}
	methods := map[string]string{}
	for k, v := range r.InputRequests {
		methods[k] = v.Method
	}
	return methods, r.RequestState
}

func wantComplete(t *testing.T, res json.RawMessage, text string) {
	t.Helper()
	if field(t, res, "resultType") != "complete" || !strings.Contains(field(t, res, "content.0.text").(string), text) {
		t.Fatalf("want a complete result saying %q, got %s", text, res)
	}
}

const (
	nameAlice = `{"action":"accept","content":{"name":"Alice"}}`
	sampled   = `{"role":"assistant","content":{"type":"text","text":"Paris."},"model":"m","stopReason":"endTurn"}`
	roots     = `{"roots":[{"uri":"file:///a","name":"A"}]}`
)

// TestFixtureInputRequired walks the input-required (SEP-2322) tools through
// their rounds.
func TestFixtureInputRequired(t *testing.T) {
	c := testServer(t, Options{Fixtures: true})
	call := func(tool, caps string, rest ...string) response {
		return do(t, c, callFixture(tool, caps, "", "{}", rest...))
	}
	res, _ := result(t, call("test_input_required_result_elicitation", allCaps))
	if m, st := inputRequests(t, res); m["user_name"] != "elicitation/create" || st != "" {
		t.Fatalf("round 1: %s", res)
	}
	res, _ = result(t, call("test_input_required_result_elicitation", allCaps, `"inputResponses":{"user_name":`+nameAlice+`,"extra":{"action":"accept"}}`))
	wantComplete(t, res, "Hello, Alice!")
	res, _ = result(t, call("test_input_required_result_elicitation", allCaps, `"inputResponses":{"wrong_key":`+nameAlice+`}`))
	inputRequests(t, res) // asked again, not refused
	rpcErrorData(t, call("test_input_required_result_elicitation", allCaps, `"inputResponses":{"user_name":12345}`), 400, codeInvalidParams)
	rpcErrorData(t, call("test_input_required_result_elicitation", "{}"), 400, codeMissingCapability)

	res, _ = result(t, call("test_input_required_result_sampling", allCaps, `"inputResponses":{"capital_question":`+sampled+`}`))
	wantComplete(t, res, "Paris.")
	res, _ = result(t, call("test_input_required_result_list_roots", allCaps, `"inputResponses":{"client_roots":`+roots+`}`))
	wantComplete(t, res, "file:///a")

	res, _ = result(t, call("test_input_required_result_capabilities", `{"sampling":{}}`))
	if m, _ := inputRequests(t, res); len(m) != 1 || m["greeting"] != "sampling/createMessage" {
		t.Errorf("sampling only: %v", m)
	}
	res, _ = result(t, call("test_input_required_result_capabilities", allCaps))
	if m, _ := inputRequests(t, res); len(m) != 3 {
		t.Errorf("all capabilities: %v", m)
	}
}

// TestFixtureRequestState checks the sealed requestState: echoed intact it
// carries the rounds forward; altered, cut, invented, or taken to another
// tool or another server it is refused.
func TestFixtureRequestState(t *testing.T) {
	c := testServer(t, Options{Fixtures: true})
	call := func(tool string, rest ...string) response {
		return do(t, c, callFixture(tool, allCaps, "", "{}", rest...))
	}
	res, _ := result(t, call("test_input_required_result_multi_round"))
	_, st1 := inputRequests(t, res)
	res, _ = result(t, call("test_input_required_result_multi_round", `"inputResponses":{"step1":`+nameAlice+`},"requestState":"`+st1+`"`))
	m, st2 := inputRequests(t, res)
	if m["step2"] != "elicitation/create" || st2 == st1 || st2 == "" {
		t.Fatalf("round 2: %s", res)
	}
	res, _ = result(t, call("test_input_required_result_multi_round", `"inputResponses":{"step2":{"action":"accept","content":{"color":"blue"}}},"requestState":"`+st2+`"`))
	wantComplete(t, res, "Alice likes blue")

	res, _ = result(t, call("test_input_required_result_request_state"))
	_, st := inputRequests(t, res)
	confirm := `"inputResponses":{"confirm":{"action":"accept","content":{"ok":true}}}`
	res, _ = result(t, call("test_input_required_result_request_state", confirm+`,"requestState":"`+st+`"`))
	wantComplete(t, res, "state-ok")
	for name, bad := range map[string]string{
		"tampered":       st + "-TAMPERED",
		"cut":            st[:len(st)/2],
		"invented":       base64.RawURLEncoding.EncodeToString([]byte(`"confirm"`)) + ".AAAA",
		"another tool's": st1,
	} {
		got := call("test_input_required_result_request_state", confirm+`,"requestState":"`+bad+`"`)
		if got.status != 400 || !bytes.Contains(got.body, []byte("integrity")) {
			t.Errorf("%s state: %d %s", name, got.status, got.body)
		}
	}
	// Each server seals with a key of its own: another one's state is refused.
	other := testServer(t, Options{Fixtures: true})
	got := do(t, other, callFixture("test_input_required_result_request_state", allCaps, "", "{}", confirm+`,"requestState":"`+st+`"`))
	if got.status != 400 || !bytes.Contains(got.body, []byte("integrity")) {
		t.Errorf("another server's state: %d %s", got.status, got.body)
	}
	res, _ = result(t, call("test_input_required_result_tampered_state"))
	_, st = inputRequests(t, res)
	rpcErrorData(t, call("test_input_required_result_tampered_state", confirm+`,"requestState":"`+st+`-TAMPERED"`), 400, codeInvalidParams)

	res, _ = result(t, call("test_input_required_result_multiple_inputs"))
	m, st = inputRequests(t, res)
	if len(m) != 3 || st == "" {
		t.Fatalf("multiple inputs: %s", res)
	}
	res, _ = result(t, call("test_input_required_result_multiple_inputs",
		`"inputResponses":{"user_name":`+nameAlice+`,"greeting":`+sampled+`,"client_roots":`+roots+`},"requestState":"`+st+`"`))
	wantComplete(t, res, "Paris. Alice; 1 root(s) visible")
}

// TestFixtureResourcesPromptsCompletion reads the resources, gets the
// prompts and completes their arguments.
func TestFixtureResourcesPromptsCompletion(t *testing.T) {
	c := testServer(t, Options{Reply: "sse", Fixtures: true})
	read := func(uri string) response {
		return do(t, c, fixRequest("resources/read", uri, "{}", "", `"uri":"`+uri+`"`))
	}
	for uri, member := range map[string]string{"test://static-text": "text", "test://static-binary": "blob", "test://watched-resource": "text", "test://template/123/data": "text"} {
		res, _ := result(t, read(uri))
		if field(t, res, "contents.0.uri") != uri || field(t, res, "contents.0."+member) == nil || field(t, res, "ttlMs") != 0.0 {
			t.Errorf("%s: %s", uri, res)
		}
	}
	res, _ := result(t, read("test://template/123/data"))
	// As the suite's resources-templates-read describes it.
	if text := field(t, res, "contents.0.text").(string); text != `{"id":"123","templateTest":true,"data":"Data for ID: 123"}` {
		t.Errorf("template text %s", text)
	}
	for _, uri := range []string{"test://nope", "test://template//data", "test://template/a/b/data"} {
		if data := rpcErrorData(t, read(uri), 400, codeInvalidParams); field(t, data, "uri") != uri {
			t.Errorf("%s: data %s", uri, data)
		}
	}

	get := func(name, args string) response {
		return do(t, c, fixRequest("prompts/get", name, allCaps, "", `"name":"`+name+`","arguments":`+args))
	}
	for name, want := range map[string]string{
		"test_simple_prompt":                 "This is a simple prompt for testing.",
		"test_prompt_with_arguments":         "Prompt with arguments: arg1='x', arg2='y'",
		"test_prompt_with_embedded_resource": "Please process the embedded resource above.",
		"test_prompt_with_image":             "Please analyze the image above.",
	} {
		res, _ := result(t, get(name, `{"arg1":"x","arg2":"y","resourceUri":"test://r"}`))
		if !strings.Contains(string(res), want) {
			t.Errorf("%s: %s", name, res)
		}
	}
	rpcErrorData(t, get("test_prompt_with_arguments", `{"arg1":"x"}`), 400, codeInvalidParams)
	rpcErrorData(t, get("no_such_prompt", `{}`), 400, codeInvalidParams)
	res, _ = result(t, get("test_input_required_result_prompt", `{}`))
	inputRequests(t, res)
	res, _ = result(t, do(t, c, fixRequest("prompts/get", "test_input_required_result_prompt", allCaps, "",
		`"name":"test_input_required_result_prompt","inputResponses":{"user_context":{"action":"accept","content":{"context":"tests"}}}`)))
	if field(t, res, "messages.0.content.text") != "Context: tests" {
		t.Errorf("prompt round 2: %s", res)
	}

	complete := func(ref, arg string) response {
		return do(t, c, fixRequest("completion/complete", "", "{}", "", `"ref":`+ref+`,"argument":`+arg))
	}
	// As the suite's completion-complete describes it.
	res, _ = result(t, complete(`{"type":"ref/prompt","name":"test_prompt_with_arguments"}`, `{"name":"arg1","value":"par"}`))
	if v, _ := json.Marshal(field(t, res, "completion.values")); string(v) != `["paris","park","party"]` || field(t, res, "completion.total") != 3.0 {
		t.Errorf("completion: %s", res)
	}
	res, _ = result(t, complete(`{"type":"ref/resource","uri":"test://template/{id}/data"}`, `{"name":"id","value":"zz"}`))
	if v := field(t, res, "completion.values"); v == nil || len(v.([]any)) != 0 {
		t.Errorf("empty completion: %s", res)
	}
	rpcErrorData(t, complete(`{"type":"ref/prompt","name":"nope"}`, `{"name":"a","value":""}`), 400, codeInvalidParams)
}

// TestFixturesModernOnly checks that a 2025-* client does not see the
// fixtures.
func TestFixturesModernOnly(t *testing.T) {
	c := testServer(t, Options{Fixtures: true})
	v := map[string]string{"MCP-Protocol-Version": "2025-11-25"}
	got := do(t, c, request{hdr: v, body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"test_simple_text","arguments":{}}}`})
	wantError(codeInvalidParams)(t, got.body)
	got = do(t, c, request{hdr: v, body: `{"jsonrpc":"2.0","id":1,"method":"prompts/list"}`})
	wantError(codeMethodNotFound)(t, got.body)
}
