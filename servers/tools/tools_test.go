package tools

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCall(t *testing.T) {
	zero := sha256.Sum256([]byte("mcpbench"))
	one := sha256.Sum256(zero[:])
	for _, tc := range []struct {
		name, tool, args string
		want             string // exact text, when not an error
		wantLen          int    // or its length
		argErr           string // an *ArgError mentioning this
	}{
		{"echo", "echo", `{"message":"hello"}`, "hello", 0, ""},
		{"echo empty", "echo", `{"message":""}`, "", 0, ""},
		{"echo unicode", "echo", `{"message":"héllo \"q\""}`, `héllo "q"`, 0, ""},
		{"echo extra fields ignored", "echo", `{"message":"x","other":1}`, "x", 0, ""},
		{"echo missing message", "echo", `{}`, "", 0, `"message" is required`},
		{"echo no arguments", "echo", ``, "", 0, `"message" is required`},
		{"echo number", "echo", `{"message":5}`, "", 0, `"message" must be a string`},
		{"echo array arguments", "echo", `[1]`, "", 0, "must be a JSON object"},
		{"echo broken JSON", "echo", `{"message":`, "", 0, "must be a JSON object"},
		{"compute 0", "compute", `{"rounds":0}`, hex.EncodeToString(zero[:]), 0, ""},
		{"compute 1", "compute", `{"rounds":1}`, hex.EncodeToString(one[:]), 0, ""},
		{"compute 1.0", "compute", `{"rounds":1.0}`, hex.EncodeToString(one[:]), 0, ""},
		{"compute negative", "compute", `{"rounds":-1}`, "", 0, "want 0 to 1000000"},
		{"compute above cap", "compute", `{"rounds":1000001}`, "", 0, "want 0 to 1000000"},
		{"compute fraction", "compute", `{"rounds":1.5}`, "", 0, "must be an integer"},
		{"compute string", "compute", `{"rounds":"5"}`, "", 0, "must be an integer"},
		{"compute huge", "compute", `{"rounds":1e300}`, "", 0, "must be an integer"},
		{"compute beyond int32", "compute", `{"rounds":10000000000}`, "", 0, "out of range"},
		{"compute bool", "compute", `{"rounds":true}`, "", 0, "must be an integer"},
		{"compute null", "compute", `{"rounds":null}`, "", 0, "is required"},
		{"payload 0", "payload", `{"bytes":0}`, "", 0, ""},
		{"payload 100", "payload", `{"bytes":100}`, "", 100, ""},
		{"payload 1000", "payload", `{"bytes":1000}`, "", 1000, ""},
		{"payload above cap", "payload", `{"bytes":16777217}`, "", 0, "want 0 to 16777216"},
		{"sleep 1", "sleep", `{"ms":1}`, "slept 1 ms", 0, ""},
		{"sleep negative", "sleep", `{"ms":-5}`, "", 0, "want 0 to 60000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Call(context.Background(), tc.tool, []byte(tc.args))
			if tc.argErr != "" {
				var ae *ArgError
				if !errors.As(err, &ae) || !strings.Contains(err.Error(), tc.argErr) || ae.Tool != tc.tool {
					t.Fatalf("err = %v; want an *ArgError of %s mentioning %q", err, tc.tool, tc.argErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantLen > 0 {
				if len(got) != tc.wantLen {
					t.Errorf("%d bytes, want %d", len(got), tc.wantLen)
				}
				if b, _ := json.Marshal(got); len(b) != len(got)+2 {
					t.Errorf("payload needs JSON escaping: %d bytes encoded", len(b))
				}
				return
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnknownTool(t *testing.T) {
	if _, err := Call(context.Background(), "rm", nil); !errors.Is(err, ErrUnknownTool) {
		t.Errorf("err = %v", err)
	}
}

func TestSleepCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := Call(ctx, "sleep", []byte(`{"ms":60000}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v", err)
	}
}

func TestEchoCap(t *testing.T) {
	msg, _ := json.Marshal(strings.Repeat("x", MaxMessage+1))
	if _, err := Call(context.Background(), "echo", []byte(`{"message":`+string(msg)+`}`)); err == nil {
		t.Error("an echo over the cap succeeded")
	}
}

func TestList(t *testing.T) {
	names := Names()
	if strings.Join(names, ",") != "echo,compute,payload,sleep" {
		t.Errorf("Names = %v", names)
	}
	for _, tl := range List() {
		var schema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(tl.InputSchema, &schema); err != nil || schema.Type != "object" || len(schema.Required) != 1 {
			t.Errorf("%s: schema %s: %v", tl.Name, tl.InputSchema, err)
		}
		if _, ok := schema.Properties[schema.Required[0]]; !ok {
			t.Errorf("%s: required %q not among the properties", tl.Name, schema.Required[0])
		}
		if tl.Description == "" {
			t.Errorf("%s: no description", tl.Name)
		}
	}
}

// FuzzCall: no arguments make a tool panic; every failure is an *ArgError.
func FuzzCall(f *testing.F) {
	for _, s := range []string{`{"message":"x"}`, `{"rounds":3}`, `{"bytes":10}`, `{"ms":0}`, `[]`, `null`, `{"rounds":1e5}`, `{"bytes":-1}`} {
		f.Add("echo", s)
		f.Add("compute", s)
		f.Add("payload", s)
	}
	f.Fuzz(func(t *testing.T, tool, args string) {
		if tool == "sleep" {
			return // a fuzzer must not wait for minutes
		}
		if strings.Contains(args, "rounds") && tool == "compute" && len(args) > 12 {
			return // large round counts only cost time
		}
		_, err := Call(context.Background(), tool, []byte(args))
		var ae *ArgError
		if err != nil && !errors.As(err, &ae) && !errors.Is(err, ErrUnknownTool) {
			t.Errorf("%s(%s): %v is neither an *ArgError nor ErrUnknownTool", tool, args, err)
		}
	})
}

func BenchmarkEcho(b *testing.B) {
	args := []byte(`{"message":"hello"}`)
	b.ReportAllocs()
	for b.Loop() {
		Call(context.Background(), "echo", args)
	}
}
