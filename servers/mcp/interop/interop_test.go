package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench/proc"
	"github.com/mcpbench/mcpbench/bench/results"
	"github.com/modelcontextprotocol/go-sdk/auth/extauth"
	gosdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// peers is where `make interop` put the binaries and packages.
type peers struct {
	bin     string // mcpbench
	node    string
	modules string // node_modules with the pinned peers
	confCLI string // the conformance suite's CLI
}

// need returns the peers, or skips the test when they are not installed
// (plain `go test ./...`); under `make interop` (MCPBENCH_INTEROP=1) a
// missing peer fails it.
func need(t *testing.T) peers {
	t.Helper()
	p := peers{bin: os.Getenv("MCPBENCH_BIN"), node: os.Getenv("INTEROP_NODE"), modules: os.Getenv("INTEROP_MODULES"), confCLI: os.Getenv("CONFORMANCE_CLI")}
	for _, f := range []string{p.bin, p.node, p.modules, p.confCLI} {
		if _, err := os.Stat(f); f == "" || err != nil {
			if os.Getenv("MCPBENCH_INTEROP") != "" {
				t.Fatalf("peer %q missing: run `make interop`", f)
			}
			t.Skip("the interop peers are not installed: `make interop` runs these tests")
		}
	}
	return p
}

func (p peers) pkg(path string) string { return filepath.Join(p.modules, path) }

// start runs a server that prints "listening URL" first, and stops it
// when the test ends.
func start(t *testing.T, path string, env []string, args ...string) string {
	t.Helper()
	srv, err := proc.Start(context.Background(), proc.Options{Path: path, Args: args, Env: env, StartTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Stop(5 * time.Second) })
	return srv.URL()
}

// serve starts `mcpbench serve ARGS`.
func (p peers) serve(t *testing.T, args ...string) string {
	return start(t, p.bin, nil, append([]string{"serve"}, args...)...)
}

// everything starts the TypeScript reference server over Streamable HTTP.
func (p peers) everything(t *testing.T) string {
	return start(t, p.node, []string{"PORT=0"}, "--require", "./loopback.cjs",
		p.pkg("@modelcontextprotocol/server-everything/dist/index.js"), "streamableHttp")
}

// run runs a command to its end (at most a minute) and returns its stdout;
// a failure shows its stderr.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(name), strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// load runs `mcpbench load --mcp` and checks that every call it scheduled
// succeeded.
func (p peers) load(t *testing.T, n int, args ...string) {
	t.Helper()
	base := []string{"load", "--mcp", "-n", fmt.Sprint(n), "--rate", "200", "-c", "4", "--warmup", "0s",
		"--format", "json", "--no-save", "--progress", "off"}
	out := run(t, p.bin, append(base, args...)...)
	var s results.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil || len(s.Runs) != 1 {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	a := s.Runs[0].Accounting
	if a.Scheduled != uint64(n) || a.OK != uint64(n) || a.Errors != 0 {
		t.Errorf("scheduled %d, ok %d, errors %d %v; want %d ok", a.Scheduled, a.OK, a.Errors, a.ByCode, n)
	}
	t.Logf("%d calls, p50 %v", a.OK, time.Duration(s.Runs[0].Response.P50))
}

// TestInteropLoadTSServer: `mcpbench load --mcp` against the TypeScript
// reference server, over Streamable HTTP (a session per connection, SSE
// replies) and over stdio (a process per connection), with 0 errors.
func TestInteropLoadTSServer(t *testing.T) {
	p := need(t)
	url := p.everything(t)
	for _, protocol := range []string{"auto", "2025-11-25"} {
		t.Run("http "+protocol, func(t *testing.T) { p.load(t, 200, url, "--protocol", protocol) })
	}
	t.Run("stdio", func(t *testing.T) {
		p.load(t, 50, "--transport", "stdio", "--", p.node, p.pkg("@modelcontextprotocol/server-everything/dist/index.js"), "stdio")
	})
}

// mcpbenchServers starts each of mcpbench's MCP servers, protected by an
// authorization server when oauth is set; it returns their URLs by name,
// and the issuers by the same names. With lenient, each server has its
// own authorization server that gives a token asked for without the
// RFC 8707 resource parameter that server's audience: for clients that
// leave it out.
func (p peers) mcpbenchServers(t *testing.T, oauth, lenient bool) (urls, issuers map[string]string) {
	urls, issuers = map[string]string{}, map[string]string{}
	var shared string
	if oauth && !lenient {
		shared = p.serve(t, "authserver", "--client", "bench:pw")
	}
	for name, args := range map[string][]string{
		"sdk":          {"mcp", "--impl", "sdk"},
		"sdk-stateful": {"mcp", "--impl", "sdk", "--stateful"},
		"fast":         {"mcp", "--impl", "fast"},
	} {
		if oauth {
			issuer := shared
			if lenient {
				addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
				issuer = p.serve(t, "authserver", "--client", "bench:pw", "--default-resource", "http://"+addr+"/mcp")
				args = append(args, "--addr", addr)
			}
			args = append(args, "--auth", "jwt", "--issuer", issuer)
			issuers[name] = issuer
		}
		urls[name] = p.serve(t, args...)
	}
	return urls, issuers
}

// TestInteropTSClient: the TypeScript SDK's own client (Streamable HTTP,
// and its client-credentials provider) lists and calls tools on both
// mcpbench servers.
func TestInteropTSClient(t *testing.T) {
	p := need(t)
	// Node resolves an ES module's imports from where the module is: the
	// script runs beside the installed packages.
	script := filepath.Join(filepath.Dir(p.modules), "ts-client.mjs")
	b, err := os.ReadFile("ts-client.mjs")
	if err == nil {
		err = os.WriteFile(script, b, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, oauth := range []bool{false, true} {
		urls, issuers := p.mcpbenchServers(t, oauth, false)
		for name, url := range urls {
			t.Run(fmt.Sprintf("%s oauth=%v", name, oauth), func(t *testing.T) {
				args := []string{script, url}
				if oauth {
					args = append(args, "bench:pw", issuers[name])
				}
				out := run(t, p.node, args...)
				var got struct {
					Tools   []string
					Echo    string
					IsError bool
				}
				if err := json.Unmarshal([]byte(out), &got); err != nil || got.Echo != "hi" || got.IsError || !slices.Contains(got.Tools, "echo") {
					t.Errorf("ts-client: %v: %s", err, out)
				}
			})
		}
	}
}

// TestInteropGoSDKClient: the go-sdk's client lists and calls tools on
// both mcpbench servers, through its client-credentials OAuth handler when
// they are protected. That handler (go-sdk v1.8.0, auth/extauth) sends no
// RFC 8707 resource parameter, which the MCP authorization spec says
// clients MUST send and mcpbench's authorization server requires; each
// server gets an authorization server of its own that takes the server's
// URL as the default resource.
func TestInteropGoSDKClient(t *testing.T) {
	p := need(t)
	for _, oauth := range []bool{false, true} {
		urls, _ := p.mcpbenchServers(t, oauth, true)
		for name, url := range urls {
			t.Run(fmt.Sprintf("%s oauth=%v", name, oauth), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				tr := &gosdk.StreamableClientTransport{Endpoint: url}
				if oauth {
					h, err := extauth.NewClientCredentialsHandler(&extauth.ClientCredentialsHandlerConfig{
						Credentials: &oauthex.ClientCredentials{ClientID: "bench", ClientSecretAuth: &oauthex.ClientSecretAuth{ClientSecret: "pw"}}})
					if err != nil {
						t.Fatal(err)
					}
					tr.OAuthHandler = h
				}
				cs, err := gosdk.NewClient(&gosdk.Implementation{Name: "mcpbench-interop", Version: "1"}, nil).Connect(ctx, tr, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer cs.Close()
				tools, err := cs.ListTools(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				res, err := cs.CallTool(ctx, &gosdk.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
				if err != nil {
					t.Fatal(err)
				}
				text, _ := res.Content[0].(*gosdk.TextContent)
				if len(tools.Tools) == 0 || res.IsError || text == nil || text.Text != "hi" {
					t.Errorf("%d tools; echo %+v", len(tools.Tools), res)
				}
			})
		}
	}
}

// TestInteropInspectorCLI: the MCP Inspector's CLI lists and calls tools
// on both mcpbench servers.
func TestInteropInspectorCLI(t *testing.T) {
	p := need(t)
	urls, _ := p.mcpbenchServers(t, false, false)
	cli := p.pkg("@modelcontextprotocol/inspector/clients/launcher/build/index.js")
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			var list struct{ Tools []struct{ Name string } }
			out := run(t, p.node, cli, "--cli", url, "--transport", "http", "--method", "tools/list")
			if err := json.Unmarshal([]byte(out), &list); err != nil || !slices.ContainsFunc(list.Tools, func(x struct{ Name string }) bool { return x.Name == "echo" }) {
				t.Errorf("tools/list: %v: %s", err, out)
			}
			var call struct{ Content []struct{ Text string } }
			out = run(t, p.node, cli, "--cli", url, "--transport", "http", "--method", "tools/call", "--tool-name", "echo", "--tool-arg", "message=hi")
			if err := json.Unmarshal([]byte(out), &call); err != nil || len(call.Content) != 1 || call.Content[0].Text != "hi" {
				t.Errorf("tools/call: %v: %s", err, out)
			}
		})
	}
}

// TestInteropAuthorizationServer: the conformance suite's
// authorization-server scenarios against mcpbench's authorization server.
// The suite prints the authorization URL for a browser to open; this test
// is the browser (consent is automatic, so following the redirects brings
// the code to the suite's callback).
func TestInteropAuthorizationServer(t *testing.T) {
	p := need(t)
	issuer := p.serve(t, "authserver", "--client", "bench:pw")
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, p.node, p.confCLI, "authorization", "--url", issuer, "--client-id", "bench",
		"--client-secret", "pw", "--resource", "http://127.0.0.1:1/mcp", "--port", fmt.Sprint(port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	sc := bufio.NewScanner(io.TeeReader(stdout, &out))
	var visited chan error
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, issuer+"/authorize?") && visited == nil {
			visited = make(chan error, 1)
			go func() { visited <- visit(line, port) }()
		}
	}
	err = cmd.Wait()
	t.Logf("conformance authorization:\n%s", out.String())
	if visited == nil {
		t.Fatal("the suite printed no authorization URL")
	}
	if verr := <-visited; verr != nil {
		t.Errorf("authorization request: %v", verr)
	}
	if err != nil || !strings.Contains(out.String(), "Total: 2 passed, 0 failed") {
		t.Errorf("suite: %v", err)
	}
}

// visit opens the authorization URL as a browser would, once the suite's
// callback server listens, following the redirect to it.
func visit(url string, port int) error {
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestInteropConformanceClient: mcpbench as the client of the conformance
// suite's auth scenarios (../conformance/client.mjs runs `mcpbench load
// --mcp`): client credentials by secret and by signed JWT assertion, the
// authorization-code flow with PKCE (--grant authorization_code), and
// DPoP-bound tokens with server nonces. README.md says which scenarios are
// left out and why.
func TestInteropConformanceClient(t *testing.T) {
	p := need(t)
	wrapper, err := filepath.Abs("../conformance/client.mjs")
	if err != nil {
		t.Fatal(err)
	}
	for _, scenario := range []string{
		// Client credentials, by secret and by JWT assertion.
		"auth/client-credentials-basic", "auth/client-credentials-jwt",
		// The authorization-code flow with PKCE: registration, metadata
		// discovery by every route, the token endpoint's auth methods,
		// scopes, RFC 9207 iss checks.
		"auth/pre-registration", "auth/metadata-default", "auth/metadata-var1", "auth/metadata-var2", "auth/metadata-var3",
		"auth/token-endpoint-auth-basic", "auth/token-endpoint-auth-post", "auth/token-endpoint-auth-none",
		"auth/scope-from-www-authenticate", "auth/scope-from-scopes-supported", "auth/scope-omitted-when-undefined", "auth/scope-retry-limit",
		"auth/resource-mismatch", "auth/offline-access-not-supported", "auth/metadata-issuer-mismatch",
		"auth/iss-supported", "auth/iss-not-advertised", "auth/iss-supported-missing", "auth/iss-wrong-issuer", "auth/iss-unexpected", "auth/iss-normalized",
		// DPoP-bound tokens (SEP-1932), with and without server nonces.
		"auth/dpop", "auth/dpop-nonce",
	} {
		t.Run(scenario, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, p.node, p.confCLI, "client", "--command", p.node+" "+wrapper, "--scenario", scenario)
			cmd.Env = append(os.Environ(), "MCPBENCH_BIN="+p.bin)
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "OVERALL: PASSED") {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
}
