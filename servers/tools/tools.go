// Package tools is the one workload every stack under test serves: the MCP
// servers as MCP tools, the REST upstream as POST /tools/{name}, the GraphQL
// server as fields. A difference between stacks is then the stack's cost,
// not the work's.
//
//	echo{message}   returns message                      (a no-op)
//	compute{rounds} returns the hex SHA-256 chain digest (CPU work)
//	payload{bytes}  returns that many bytes of text      (response size)
//	sleep{ms}       waits, then returns "slept N ms"     (stands in for I/O)
//
// Arguments are checked: a wrong type, a negative number or one above the
// documented cap is an *ArgError, which servers report as a tool error (in
// MCP: a result with isError true), never a panic.
package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Caps on arguments: above them a call is refused with an *ArgError.
const (
	MaxMessage = 1 << 20 // bytes of an echo message
	MaxRounds  = 1_000_000
	MaxPayload = 16 << 20 // bytes
	MaxSleepMs = 60_000
)

// ErrUnknownTool is returned by Call for a name that is not a tool.
var ErrUnknownTool = errors.New("unknown tool")

// ArgError says what is wrong with a call's arguments.
type ArgError struct {
	Tool, Msg string
}

func (e *ArgError) Error() string { return e.Tool + ": " + e.Msg }

// Tool describes one tool for listings (tools/list, REST discovery, GraphQL schema).
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	InputSchema json.RawMessage `json:"inputSchema"`
}

var list = []Tool{
	{
		Name:        "echo",
		Description: "Returns message unchanged.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"message":{"type":"string","description":"text to return, at most 1 MiB"}},"required":["message"]}`),
	},
	{
		Name:        "compute",
		Description: "Runs a chain of SHA-256 rounds and returns the final digest in hex.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"rounds":{"type":"integer","minimum":0,"maximum":1000000,"description":"SHA-256 rounds"}},"required":["rounds"]}`),
	},
	{
		Name:        "payload",
		Description: "Returns a text of exactly that many bytes.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"bytes":{"type":"integer","minimum":0,"maximum":16777216,"description":"bytes to return"}},"required":["bytes"]}`),
	},
	{
		Name:        "sleep",
		Description: "Waits that many milliseconds (standing in for I/O), then returns.",
		InputSchema: json.RawMessage(`{"type":"object","properties":{"ms":{"type":"integer","minimum":0,"maximum":60000,"description":"milliseconds to wait"}},"required":["ms"]}`),
	},
}

// List returns the tools, in a fixed order. The caller must not modify it.
func List() []Tool { return list }

// Names returns the tool names, in List's order.
func Names() []string {
	n := make([]string, len(list))
	for i, t := range list {
		n[i] = t.Name
	}
	return n
}

// Call runs tool name with JSON arguments (an object; empty or null means
// no arguments). It returns the tool's text, an *ArgError for bad
// arguments, ErrUnknownTool, or ctx's error if sleep is cut short.
func Call(ctx context.Context, name string, args []byte) (string, error) {
	switch name {
	case "echo":
		var a struct {
			Message *string `json:"message"`
		}
		if err := decode(name, args, &a); err != nil {
			return "", err
		}
		if a.Message == nil {
			return "", &ArgError{name, `"message" is required (a string)`}
		}
		return Echo(*a.Message)
	case "compute":
		n, err := intArg(name, args, "rounds")
		if err != nil {
			return "", err
		}
		return Compute(n)
	case "payload":
		n, err := intArg(name, args, "bytes")
		if err != nil {
			return "", err
		}
		return Payload(n)
	case "sleep":
		n, err := intArg(name, args, "ms")
		if err != nil {
			return "", err
		}
		return Sleep(ctx, n)
	}
	return "", fmt.Errorf("%w %q", ErrUnknownTool, name)
}

// Echo returns message.
func Echo(message string) (string, error) {
	if len(message) > MaxMessage {
		return "", &ArgError{"echo", fmt.Sprintf(`"message" is %d bytes; at most %d`, len(message), MaxMessage)}
	}
	return message, nil
}

// Compute returns the hex digest after rounds of SHA-256 over the previous
// digest, starting from the digest of "mcpbench".
func Compute(rounds int) (string, error) {
	if err := bounded("compute", "rounds", rounds, MaxRounds); err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte("mcpbench"))
	for i := 0; i < rounds; i++ {
		sum = sha256.Sum256(sum[:])
	}
	return hex.EncodeToString(sum[:]), nil
}

const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// Payload returns n bytes of printable text that needs no JSON escaping.
func Payload(n int) (string, error) {
	if err := bounded("payload", "bytes", n, MaxPayload); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(n)
	for b.Len()+len(alphabet) <= n {
		b.WriteString(alphabet)
	}
	b.WriteString(alphabet[:n-b.Len()])
	return b.String(), nil
}

// Sleep waits ms milliseconds, or until ctx is done.
func Sleep(ctx context.Context, ms int) (string, error) {
	if err := bounded("sleep", "ms", ms, MaxSleepMs); err != nil {
		return "", err
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return "slept " + strconv.Itoa(ms) + " ms", nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func bounded(tool, arg string, v, max int) error {
	if v < 0 || v > max {
		return &ArgError{tool, fmt.Sprintf("%q is %d; want 0 to %d", arg, v, max)}
	}
	return nil
}

func decode(tool string, args []byte, v any) error {
	if len(args) == 0 || string(args) == "null" {
		return nil
	}
	if err := json.Unmarshal(args, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &ArgError{tool, fmt.Sprintf("%q must be a string, not a JSON %s", te.Field, te.Value)}
		}
		return &ArgError{tool, "arguments must be a JSON object: " + err.Error()}
	}
	return nil
}

// intArg reads the one required integer argument key.
func intArg(tool string, args []byte, key string) (int, error) {
	var m map[string]json.RawMessage
	if err := decode(tool, args, &m); err != nil {
		return 0, err
	}
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return 0, &ArgError{tool, fmt.Sprintf("%q is required (an integer)", key)}
	}
	var f json.Number
	if raw[0] == '"' || json.Unmarshal(raw, &f) != nil {
		return 0, &ArgError{tool, fmt.Sprintf("%q must be an integer, not %s", key, raw)}
	}
	n, err := strconv.ParseInt(f.String(), 10, 64)
	if err != nil {
		// 3.0 is an integer in JSON Schema; 3.5 and 1e999 are not.
		fl, ferr := f.Float64()
		if ferr != nil || fl != float64(int64(fl)) {
			return 0, &ArgError{tool, fmt.Sprintf("%q must be an integer, not %s", key, raw)}
		}
		n = int64(fl)
	}
	if n < -1<<31 || n > 1<<31 {
		return 0, &ArgError{tool, fmt.Sprintf("%q is %d; out of range", key, n)}
	}
	return int(n), nil
}
