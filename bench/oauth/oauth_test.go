package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/mcpbench/mcpbench/bench/benchtest"
	"github.com/mcpbench/mcpbench/bench/driver"
	"github.com/mcpbench/mcpbench/bench/driver/httpcall"
	"github.com/mcpbench/mcpbench/bench/driver/mcp"
	"github.com/mcpbench/mcpbench/servers/auth"
	"github.com/mcpbench/mcpbench/servers/authserver"
)

// keyedClient is the key of the client "keyed", which authenticates with
// JWT assertions.
var keyedClient, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

// protected starts an authorization server and a resource protected by it,
// and returns the resource URL and how many calls it accepted and refused.
func protected(t *testing.T, ttl time.Duration) (resource string, as *authserver.Server, ok, refused *atomic.Int64) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	asl, _ := net.Listen("tcp", "127.0.0.1:0")
	as, err := authserver.New(authserver.Options{Issuer: "http://" + asl.Addr().String(), Clients: map[string]string{"bench": "pw"},
		ClientKeys: map[string]crypto.PublicKey{"keyed": keyedClient.Public()}, Alg: "ES256", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	go as.Serve(ctx, asl)

	rs := httptest.NewUnstartedServer(nil)
	resource = "http://" + rs.Listener.Addr().String() + "/mcp"
	v, err := auth.NewJWT(ctx, auth.JWTConfig{Issuer: as.Issuer(), Audience: resource, JWKSURL: as.Issuer() + "/jwks.json"})
	if err != nil {
		t.Fatal(err)
	}
	ok, refused = new(atomic.Int64), new(atomic.Int64)
	mux := http.NewServeMux()
	mux.Handle(auth.MetadataPath(resource), auth.MetadataHandler(auth.ResourceMetadata{
		Resource: resource, AuthorizationServers: []string{as.Issuer()}, ScopesSupported: []string{"tools:call"}}))
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ok.Add(1) })
	mw := auth.Middleware(v, auth.Options{ResourceMetadataURL: auth.MetadataURL(resource), Scopes: []string{"tools:call"}})(counted)
	mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusWriter{ResponseWriter: w}
		mw.ServeHTTP(rec, r)
		if rec.status >= 400 {
			refused.Add(1)
		}
	}))
	rs.Config.Handler = mux
	rs.Start()
	t.Cleanup(rs.Close)
	return resource, as, ok, refused
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func call(t *testing.T, resource, tok string) int {
	req, _ := http.NewRequest("POST", resource, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Logf("WWW-Authenticate: %s", resp.Header.Get("WWW-Authenticate"))
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestOAuthDiscoveryAndToken(t *testing.T) {
	resource, as, _, _ := protected(t, time.Hour)
	for _, method := range []string{"client_secret_basic", "client_secret_post"} {
		o, err := New(Config{Resource: resource, ClientID: "bench", ClientSecret: "pw", AuthMethod: method})
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Prepare(context.Background()); err != nil {
			t.Fatal(err)
		}
		if o.Issuer != as.Issuer() || o.TokenEndpoint != as.Issuer()+"/token" || o.ResourceID != resource || o.JWKSURI == "" {
			t.Errorf("discovered %+v", o)
		}
		for _, p := range []string{"oauth_discovery", "oauth_token", "oauth_jwks_fetch"} {
			if o.SetupPhases()[p] <= 0 {
				t.Errorf("phase %s not timed: %v", p, o.SetupPhases())
			}
		}
		tok, err := o.Token(context.Background())
		if err != nil || call(t, resource, tok) != 200 {
			t.Errorf("%s: the token is refused: %v", method, err)
		}
	}
}

// TestOAuthRefreshMidRun: with 2-second tokens, 3 seconds of calls need
// new tokens and not one call fails for it.
func TestOAuthRefreshMidRun(t *testing.T) {
	resource, _, ok, refused := protected(t, 2*time.Second)
	o, _ := New(Config{Resource: resource, ClientID: "bench", ClientSecret: "pw"})
	if err := o.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if refused.Load() != 1 {
		t.Errorf("discovery made %d refused calls, want the one 401", refused.Load())
	}
	refused.Store(0)
	end := time.Now().Add(3 * time.Second)
	seen := map[string]bool{}
	for time.Now().Before(end) {
		tok, err := o.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		seen[tok] = true
		if s := call(t, resource, tok); s != 200 {
			t.Logf("refused %d: token %.40s…", s, tok)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if refused.Load() != 0 || ok.Load() == 0 {
		t.Errorf("%d calls refused, %d accepted", refused.Load(), ok.Load())
	}
	if fetched, _ := o.Stats(); len(seen) < 2 || fetched < 2 {
		t.Errorf("%d tokens used, %d fetched: no refresh happened", len(seen), fetched)
	}
}

func TestOAuthFreshTokens(t *testing.T) {
	resource, _, _, _ := protected(t, time.Hour)
	o, _ := New(Config{Resource: resource, ClientID: "bench", ClientSecret: "pw", FreshTokens: 20})
	if err := o.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := 0; i < 25; i++ {
		tok, err := o.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		seen[tok] = true
	}
	if _, misses := o.Stats(); len(seen) != 25 || misses != 5 {
		t.Errorf("%d distinct tokens, %d pool misses; want 25 and 5", len(seen), misses)
	}
	// A second Prepare (the next segment) tops the pool up to 20: after 15
	// more calls it holds 5, and a third Prepare fetches 15, not 20.
	fetchedBefore, _ := o.Stats()
	if err := o.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 15; i++ {
		tok, _ := o.Token(context.Background())
		seen[tok] = true
	}
	if err := o.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	fetched, misses := o.Stats()
	// Each Prepare also fetches the shared token: 1 + 20 and 1 + 15.
	if got := fetched - fetchedBefore; got != 37 || misses != 5 || len(seen) != 40 || len(o.pool) != 20 {
		t.Errorf("two more Prepares fetched %d tokens (want 37), %d misses (want 5), %d distinct (want 40), pool %d (want 20)", got, misses, len(seen), len(o.pool))
	}
}

func TestOAuthDiscoveryErrors(t *testing.T) {
	open := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer open.Close()
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="http://`+r.Host+`/meta"`)
			w.WriteHeader(401)
			return
		}
		w.Write([]byte(`{"resource":"http://elsewhere/mcp","authorization_servers":["http://127.0.0.1:1"]}`))
	}))
	defer liar.Close()
	for name, res := range map[string]string{"no auth asked": open.URL + "/mcp", "metadata of another resource": liar.URL + "/mcp", "nothing listening": "http://127.0.0.1:1/mcp"} {
		o, _ := New(Config{Resource: res, ClientID: "x"})
		if err := o.Prepare(context.Background()); !errors.Is(err, ErrFlow) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := New(Config{Resource: "x", ClientID: "y", AuthMethod: "private_key_jwt"}); !errors.Is(err, bench.ErrConfig) {
		t.Errorf("unsupported auth method: %v", err)
	}
}

func TestSameResource(t *testing.T) {
	for _, tc := range []struct {
		resource, called string
		want             bool
	}{
		{"http://h:1/mcp", "http://h:1/mcp", true},
		{"http://h:1/mcp/", "http://h:1/mcp", true},
		{"http://h:1/tools", "http://h:1/tools/echo", true},
		{"http://h:1/", "http://h:1/anything", true},
		{"http://h:1", "http://h:1/anything", true},
		{"http://h:1/tools", "http://h:1/toolsmith", false},
		{"http://h:1/tools/echo", "http://h:1/tools", false},
		{"http://h:1/mcp", "http://h:2/mcp", false},
		{"https://h:1/mcp", "http://h:1/mcp", false},
		{"http://elsewhere/mcp", "http://h:1/mcp", false},
		{"http://h:1/tools?x=1", "http://h:1/tools/echo", false},
	} {
		if got := sameResource(tc.resource, tc.called); got != tc.want {
			t.Errorf("sameResource(%q, %q) = %v", tc.resource, tc.called, got)
		}
	}
}

func TestParseChallenge(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want map[string]string
	}{
		{[]string{`Bearer resource_metadata="http://x/m", scope="a b"`}, map[string]string{"resource_metadata": "http://x/m", "scope": "a b"}},
		{[]string{`Bearer error="invalid_token", error_description="a \"q\", b"`}, map[string]string{"error": "invalid_token", "error_description": `a "q", b`}},
		{[]string{`Basic realm="x"`, `bearer realm=api,scope=x`}, map[string]string{"realm": "api", "scope": "x"}},
		{[]string{`Bearer`}, map[string]string{}},
		{[]string{`Bearer x="unterminated`}, map[string]string{"x": "unterminated"}},
	} {
		if got := ParseChallenge(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestHTTPDriverWithOAuth: the HTTP driver discovers, gets a token, and
// every call carries it; with no authorization server, setup fails.
func TestHTTPDriverWithOAuth(t *testing.T) {
	resource, _, ok, refused := protected(t, time.Hour)
	o, _ := New(Config{Resource: resource, ClientID: "bench", ClientSecret: "pw"})
	d, err := httpcall.New(httpcall.Config{URL: resource, Method: "POST", Body: []byte(`{}`), Auth: driver.BearerOf(o), Connections: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	res := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Closed: true, Connections: 2, Requests: 100})
	if res.Accounting.OK != 100 || ok.Load() < 100 || refused.Load() != 1 {
		t.Errorf("ok %d (server saw %d), refused %d", res.Accounting.OK, ok.Load(), refused.Load())
	}
	if res.Setup.Phases["oauth_token"] <= 0 || res.Setup.Prepare <= 0 {
		t.Errorf("setup %+v", res.Setup)
	}
}

// TestSetupPhasesPerPrepare: each Prepare's phases are its own. A map
// SetupPhases returned keeps its values when the driver prepares again
// (issue 12: every round of a gateway variant showed the last round's
// phases), and a caller changing it changes nothing in the driver.
func TestSetupPhasesPerPrepare(t *testing.T) {
	resource, _, _, _ := protected(t, time.Hour)
	for _, tc := range []struct {
		name   string
		driver func(bench.TokenSource) (bench.Driver, error)
		run    bool // calls succeed against the protected resource, so bench.Run can be used
	}{
		{"rest", func(o bench.TokenSource) (bench.Driver, error) {
			return httpcall.New(httpcall.Config{URL: resource, Method: "POST", Body: []byte(`{}`), Auth: driver.BearerOf(o)})
		}, true},
		{"graphql", func(o bench.TokenSource) (bench.Driver, error) {
			return httpcall.NewGraphQL(httpcall.GraphQLConfig{URL: resource, Query: "{ echo }", Auth: driver.BearerOf(o)})
		}, true},
		{"mcp", func(o bench.TokenSource) (bench.Driver, error) {
			return mcp.New(mcp.Config{URL: resource, Protocol: mcp.MCP20251125, Auth: driver.BearerOf(o)}) // no discover: the resource is no MCP server
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := New(Config{Resource: resource, ClientID: "bench", ClientSecret: "pw"})
			if err != nil {
				t.Fatal(err)
			}
			d, err := tc.driver(o)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			prepare := func() map[string]time.Duration {
				t.Helper()
				if err := d.(bench.Preparer).Prepare(context.Background()); err != nil {
					t.Fatal(err)
				}
				return d.(bench.PhaseReporter).SetupPhases()
			}
			first := prepare()
			kept := maps.Clone(first)
			d.(bench.PhaseReporter).SetupPhases()["changed by the caller"] = 1
			if again := d.(bench.PhaseReporter).SetupPhases(); !maps.Equal(again, kept) {
				t.Errorf("SetupPhases hands out the driver's own map: a caller's change shows in the next call: %v", again)
			}
			second := prepare()
			if !maps.Equal(first, kept) {
				t.Errorf("the first Prepare's phases changed when the driver prepared again: %v, were %v", first, kept)
			}
			if second["oauth_token"] <= 0 {
				t.Errorf("second Prepare: phases %v", second)
			}
			if !tc.run {
				return
			}
			// As the scenario runner sees it: two rounds on one driver.
			r1 := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Closed: true, Connections: 1, Requests: 5})
			kept = maps.Clone(r1.Setup.Phases)
			r2 := benchtest.MustRun(t, context.Background(), bench.Config{Driver: d, Closed: true, Connections: 1, Requests: 5})
			if !maps.Equal(r1.Setup.Phases, kept) || r2.Setup.Phases["oauth_token"] <= 0 {
				t.Errorf("round 1's phases became %v (were %v) after round 2 (%v)", r1.Setup.Phases, kept, r2.Setup.Phases)
			}
		})
	}
}

// proof is an Authorizer that stamps each request with its method and URL,
// as a DPoP proof would sign them.
type proof struct{}

func (proof) Authorize(_ context.Context, r driver.Request) error {
	r.SetHeader("X-Proof", r.Method()+" "+r.URL())
	return nil
}

// TestTokenRequestHook: the TokenRequest authorizer sees each token
// request, after the client's own authentication, and a failing one fails
// the token request without sending it.
func TestTokenRequestHook(t *testing.T) {
	var seen atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _, _ := r.BasicAuth()
		seen.Store(r.Header.Get("X-Proof") + " as " + user)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"t","token_type":"Bearer","expires_in":60}`)
	}))
	defer srv.Close()
	o, err := New(Config{Resource: "http://r/mcp", ClientID: "bench", ClientSecret: "pw", TokenEndpoint: srv.URL + "/token", Issuer: srv.URL, TokenRequest: proof{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := seen.Load(), "POST "+srv.URL+"/token as bench"; got != want {
		t.Errorf("token endpoint saw %q, want %q", got, want)
	}
	o, _ = New(Config{Resource: "http://r/mcp", ClientID: "bench", ClientSecret: "pw", TokenEndpoint: srv.URL + "/token", Issuer: srv.URL,
		TokenRequest: failing{}})
	seen.Store("")
	if err := o.Prepare(context.Background()); !errors.Is(err, ErrFlow) || seen.Load() != "" {
		t.Errorf("failing hook: err %v, token endpoint saw %q", err, seen.Load())
	}
}

type failing struct{}

func (failing) Authorize(context.Context, driver.Request) error { return errors.New("no key") }

// TestOAuthPrivateKeyJWT: a client that authenticates with signed JWT
// assertions (RFC 7523) gets working tokens, one assertion per token
// request (fresh tokens: each with its own jti); a key the authorization
// server does not know for the client is refused.
func TestOAuthPrivateKeyJWT(t *testing.T) {
	resource, _, ok, _ := protected(t, time.Hour)
	o, err := New(Config{Resource: resource, ClientID: "keyed", ClientKey: keyedClient, FreshTokens: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Prepare(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		tok, err := o.Token(context.Background())
		if err != nil || call(t, resource, tok) != 200 {
			t.Fatalf("token %d: %v", i, err)
		}
	}
	if fetched, _ := o.Stats(); fetched < 5 || ok.Load() != 5 {
		t.Errorf("%d tokens fetched, %d calls accepted; want at least 5, and 5", fetched, ok.Load())
	}
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	o, _ = New(Config{Resource: resource, ClientID: "keyed", ClientKey: stranger})
	if err := o.Prepare(context.Background()); !errors.Is(err, ErrFlow) || !strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("unknown key: %v, want invalid_client", err)
	}
	for _, cfg := range []Config{
		{Resource: resource, ClientID: "keyed", ClientKey: keyedClient, ClientSecret: "pw"},
		{Resource: resource, ClientID: "keyed", ClientKey: keyedClient, AuthMethod: "client_secret_post"},
		{Resource: resource, ClientID: "keyed", AuthMethod: "private_key_jwt"},
	} {
		if _, err := New(cfg); !errors.Is(err, bench.ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
}
