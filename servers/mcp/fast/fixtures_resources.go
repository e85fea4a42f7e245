package fast

// Resources, prompts and completion for the conformance fixtures.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// resource is a resources/list entry.
type resource struct {
	URI         string `json:"uri"`
	Name        string `json:"name"`
	Description string `json:"description"`
	MIMEType    string `json:"mimeType"`
}

// resourceTemplate is a resources/templates/list entry.
type resourceTemplate struct {
	URITemplate string `json:"uriTemplate"`
	Name        string `json:"name"`
	Description string `json:"description"`
	MIMEType    string `json:"mimeType"`
}

var fixtureResources = []resource{
	{URI: "test://static-text", Name: "static-text", Description: "A fixed text.", MIMEType: "text/plain"},
	{URI: "test://static-binary", Name: "static-binary", Description: "A fixed image (a 1x1 red PNG).", MIMEType: "image/png"},
}

var fixtureTemplates = []resourceTemplate{
	{URITemplate: "test://template/{id}/data", Name: "template", Description: "JSON data for any id.", MIMEType: "application/json"},
}

// readResult is a ReadResourceResult's own members; it is cacheable
// (SEP-2549), like the lists.
type readResult struct {
	Contents   []resourceContents `json:"contents"`
	TTLMs      int                `json:"ttlMs"`
	CacheScope string             `json:"cacheScope"`
}

// readResource reads a fixed resource or a template's. A URI that names
// none is an error, never an empty contents list (SEP-2164).
func readResource(fc *fixCall) answer {
	uri := fc.req.URI
	var c resourceContents
	switch uri {
	case "test://static-text":
		c = resourceContents{URI: uri, MIMEType: "text/plain", Text: "This is the content of the static text resource."}
	case "test://static-binary":
		c = resourceContents{URI: uri, MIMEType: "image/png", Blob: testPNG}
	default:
		id, ok := templateID(uri)
		if !ok {
			return answer{err: &rpcError{code: codeInvalidParams, msg: "Resource not found", data: map[string]string{"uri": uri}}}
		}
		text, _ := marshal(map[string]any{"id": id, "templateTest": true, "data": "Data for ID: " + id})
		c = resourceContents{URI: uri, MIMEType: "application/json", Text: string(text)}
	}
	return answer{result: readResult{Contents: []resourceContents{c}, TTLMs: 0, CacheScope: "public"}}
}

// templateID matches uri against test://template/{id}/data.
func templateID(uri string) (string, bool) {
	rest, ok := strings.CutPrefix(uri, "test://template/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/data")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// fixturePrompt is one of the suite's test prompts. The exported fields are
// its prompts/list entry.
type fixturePrompt struct {
	Name        string      `json:"name"`
	Title       string      `json:"title,omitempty"`
	Description string      `json:"description"`
	Arguments   []promptArg `json:"arguments,omitempty"`

	get func(f *fixtures, fc *fixCall, args map[string]string) answer
}

type promptArg struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Required    bool   `json:"required,omitempty"`
}

// promptResult is a GetPromptResult's own members.
type promptResult struct {
	Description string          `json:"description,omitempty"`
	Messages    []promptMessage `json:"messages"`
}

type promptMessage struct {
	Role    string  `json:"role"`
	Content content `json:"content"`
}

func userSays(c ...content) []promptMessage {
	m := make([]promptMessage, len(c))
	for i := range c {
		m[i] = promptMessage{Role: "user", Content: c[i]}
	}
	return m
}

func fixturePrompts() []*fixturePrompt {
	return []*fixturePrompt{
		{Name: "test_simple_prompt", Title: "Simple prompt", Description: "A prompt without arguments.",
			get: func(*fixtures, *fixCall, map[string]string) answer {
				return answer{result: promptResult{Messages: userSays(textContent("This is a simple prompt for testing."))}}
			}},
		{Name: "test_prompt_with_arguments", Title: "Prompt with arguments", Description: "A prompt that quotes its two arguments.",
			Arguments: []promptArg{{Name: "arg1", Description: "First argument", Required: true}, {Name: "arg2", Description: "Second argument", Required: true}},
			get: func(_ *fixtures, _ *fixCall, args map[string]string) answer {
				text := fmt.Sprintf("Prompt with arguments: arg1='%s', arg2='%s'", args["arg1"], args["arg2"])
				return answer{result: promptResult{Messages: userSays(textContent(text))}}
			}},
		{Name: "test_prompt_with_embedded_resource", Title: "Prompt with an embedded resource", Description: "A prompt that embeds a text resource at the URI given.",
			Arguments: []promptArg{{Name: "resourceUri", Description: "URI of the resource to embed", Required: true}},
			get: func(_ *fixtures, _ *fixCall, args map[string]string) answer {
				return answer{result: promptResult{Messages: userSays(
					embedded(args["resourceUri"], "text/plain", "Embedded resource content for testing."),
					textContent("Please process the embedded resource above."),
				)}}
			}},
		{Name: "test_prompt_with_image", Title: "Prompt with an image", Description: "A prompt that carries an image (a 1x1 red PNG).",
			get: func(*fixtures, *fixCall, map[string]string) answer {
				return answer{result: promptResult{Messages: userSays(imageBlock(), textContent("Please analyze the image above."))}}
			}},
		{Name: "test_input_required_result_prompt", Title: "Prompt that asks for context", Description: "Input-required result (SEP-2322) on prompts/get: asks the user for context first.",
			get: mrtrPrompt},
	}
}

// getPrompt answers prompts/get.
func (f *fixtures) getPrompt(fc *fixCall) answer {
	p := f.prompts[fc.req.Name]
	if p == nil {
		return answer{err: invalidParams("unknown prompt %q", fc.req.Name)}
	}
	var args map[string]string
	if a := fc.req.Arguments; len(a) > 0 {
		if err := json.Unmarshal(a, &args); err != nil {
			return answer{err: invalidParams("prompt arguments must be an object of strings")}
		}
	}
	for _, a := range p.Arguments {
		if _, ok := args[a.Name]; a.Required && !ok {
			return answer{err: invalidParams("prompt %s needs argument %q", p.Name, a.Name)}
		}
	}
	return p.get(f, fc, args)
}

// mrtrPrompt asks the user for context, then builds the prompt with it:
// input-required results serve prompts/get as they serve tools/call.
func mrtrPrompt(_ *fixtures, fc *fixCall, _ map[string]string) answer {
	if err := fc.requireCapabilities("elicitation"); err != nil {
		return answer{err: err}
	}
	resps, err := fc.responses()
	if err != nil {
		return answer{err: err}
	}
	if ctx, ok := acceptedField(resps["user_context"], "context"); ok {
		return answer{result: promptResult{Description: "A prompt with the context the user gave", Messages: userSays(textContent("Context: " + ctx))}}
	}
	return askFor("", map[string]inputRequest{"user_context": elicit("What context should the prompt use?", "context", "string")})
}

type completionRef struct {
	Type string `json:"type"`
	Name string `json:"name"`
	URI  string `json:"uri"`
}

type completionArg struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// completions are the values offered, by reference (its type, and the
// prompt's name or the template's URI) and argument.
var completions = map[[2]string]map[string][]string{
	{"ref/prompt", "test_prompt_with_arguments"}:         {"arg1": {"alpha", "alpine", "apex", "beta"}, "arg2": {"one", "three", "two"}},
	{"ref/prompt", "test_prompt_with_embedded_resource"}: {"resourceUri": {"test://static-binary", "test://static-text"}},
	{"ref/resource", "test://template/{id}/data"}:        {"id": {"1", "123", "2", "3"}},
}

// complete answers completion/complete: the values that start with what
// the user typed so far.
func complete(fc *fixCall) answer {
	ref, arg := fc.req.Ref, fc.req.Argument
	if ref == nil || arg == nil {
		return answer{err: invalidParams("completion/complete needs params.ref and params.argument")}
	}
	target := ref.Name
	if ref.Type == "ref/resource" {
		target = ref.URI
	}
	args, ok := completions[[2]string{ref.Type, target}]
	if !ok {
		return answer{err: invalidParams("nothing to complete for %s %q", ref.Type, target)}
	}
	values := []string{} // an argument without completions gets none, not an error
	for _, v := range args[arg.Name] {
		if strings.HasPrefix(v, arg.Value) {
			values = append(values, v)
		}
	}
	sort.Strings(values)
	return answer{result: map[string]any{"completion": map[string]any{"values": values, "total": len(values), "hasMore": false}}}
}
