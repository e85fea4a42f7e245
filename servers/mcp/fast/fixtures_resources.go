package fast

// Resources, prompts and completion for the conformance fixtures: the data of
// package fixtures, in this server's encoding.

import (
	"encoding/json"
	"fmt"
	"strings"

	fixdata "github.com/mcpbench/mcpbench/servers/mcp/fixtures"
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

// fixtureResources are the resources/list entries.
func fixtureResources() []resource {
	list := make([]resource, len(fixdata.Resources))
	for i, r := range fixdata.Resources {
		list[i] = resource{URI: r.URI, Name: r.Name, Description: r.Description, MIMEType: r.MIMEType}
	}
	return list
}

// fixtureTemplates are the resources/templates/list entries.
func fixtureTemplates() []resourceTemplate {
	return []resourceTemplate{{URITemplate: fixdata.TemplateURI, Name: fixdata.TemplateName,
		Description: fixdata.TemplateDescription, MIMEType: fixdata.TemplateMIME}}
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
	c := resourceContents{URI: uri}
	switch uri {
	case fixdata.StaticTextURI:
		c.MIMEType, c.Text = "text/plain", fixdata.StaticText
	case fixdata.StaticBinaryURI:
		c.MIMEType, c.Blob = "image/png", fixdata.PNG
	case fixdata.WatchedURI:
		c.MIMEType, c.Text = "text/plain", fixdata.WatchedText
	default:
		id, ok := fixdata.TemplateID(uri)
		if !ok {
			return answer{err: &rpcError{code: codeInvalidParams, msg: "Resource not found", data: map[string]string{"uri": uri}}}
		}
		c.MIMEType, c.Text = fixdata.TemplateMIME, fixdata.TemplateText(id)
	}
	return answer{result: readResult{Contents: []resourceContents{c}, TTLMs: 0, CacheScope: "public"}}
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

// fixturePrompts returns the prompts of package fixtures, each with what
// prompts/get answers for it; a prompt of the package without a get here is
// an error.
func fixturePrompts() ([]*fixturePrompt, error) {
	gets := map[string]func(*fixtures, *fixCall, map[string]string) answer{
		fixdata.SimplePrompt:   simplePrompt,
		fixdata.ArgsPrompt:     argsPrompt,
		fixdata.ResourcePrompt: resourcePrompt,
		fixdata.ImagePrompt:    imagePrompt,
		fixdata.InputPrompt:    mrtrPrompt,
	}
	list := make([]*fixturePrompt, len(fixdata.Prompts))
	for i, p := range fixdata.Prompts {
		get, ok := gets[p.Name]
		if !ok {
			return nil, fmt.Errorf("fast: no prompts/get for fixture prompt %s", p.Name)
		}
		list[i] = &fixturePrompt{Name: p.Name, Title: p.Title, Description: p.Description, get: get}
		for _, a := range p.Arguments {
			list[i].Arguments = append(list[i].Arguments, promptArg{Name: a.Name, Description: a.Description, Required: true})
		}
	}
	return list, nil
}

func promptText(description string, c ...content) answer {
	return answer{result: promptResult{Description: description, Messages: userSays(c...)}}
}

func simplePrompt(*fixtures, *fixCall, map[string]string) answer {
	return promptText(fixdata.SimplePromptResult, textContent(fixdata.SimplePromptText))
}

func argsPrompt(_ *fixtures, _ *fixCall, args map[string]string) answer {
	return promptText(fixdata.ArgsPromptResult, textContent(fmt.Sprintf(fixdata.ArgsPromptFormat, args["arg1"], args["arg2"])))
}

func resourcePrompt(_ *fixtures, _ *fixCall, args map[string]string) answer {
	return promptText(fixdata.ResourcePromptResult,
		embedded(args["resourceUri"], "text/plain", fixdata.ResourcePromptText),
		textContent(fixdata.ResourcePromptRequest))
}

func imagePrompt(*fixtures, *fixCall, map[string]string) answer {
	return promptText(fixdata.ImagePromptResult, imageBlock(), textContent(fixdata.ImagePromptRequest))
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
	resps, err := fc.begin("elicitation")
	if err != nil {
		return answer{err: err}
	}
	if ctx, ok := acceptedField(resps[fixdata.AskContext.Key], "context"); ok {
		return promptText(fixdata.InputPromptResult, textContent(fmt.Sprintf(fixdata.PromptContextFormat, ctx)))
	}
	return askFor("", asks{}.elicit(fixdata.AskContext))
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

// complete answers completion/complete for an argument of a fixture prompt
// or of the template: the completions of package fixtures that start with
// what the user typed so far. A reference to anything else is refused.
func (f *fixtures) complete(fc *fixCall) answer {
	ref, arg := fc.req.Ref, fc.req.Argument
	if ref == nil || arg == nil {
		return answer{err: invalidParams("completion/complete needs params.ref and params.argument")}
	}
	target, known := ref.Name, false
	switch ref.Type {
	case "ref/prompt":
		_, known = f.prompts[target]
	case "ref/resource":
		target = ref.URI
		known = target == fixdata.TemplateURI
	}
	if !known {
		return answer{err: invalidParams("nothing to complete for %s %q", ref.Type, target)}
	}
	values := []string{} // none is an empty list, not an error
	for _, v := range fixdata.Completions {
		if strings.HasPrefix(v, arg.Value) {
			values = append(values, v)
		}
	}
	return answer{result: map[string]any{"completion": map[string]any{"values": values, "total": len(values), "hasMore": false}}}
}
