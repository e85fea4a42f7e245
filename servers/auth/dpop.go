package auth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcpbench/mcpbench/internal/dpop"

	"github.com/golang-jwt/jwt/v5"
)

// DPoP (RFC 9449) on the resource side: a DPoP-bound access token comes in
// "Authorization: DPoP <token>" with one DPoP header, a proof JWT signed by
// the key the token is bound to (its cnf.jkt), for this request's method
// and URL, fresh, never seen before, and carrying the token's hash.

// ErrInvalidProof: a DPoP proof that is missing, malformed, signed wrongly,
// stale, replayed, or for another request or key. 401 invalid_dpop_proof
// (RFC 9449 §7.1).
var ErrInvalidProof = errors.New("invalid DPoP proof")

// ErrUseNonce: a proof without the server's current nonce, where the
// server asks for one. 401 use_dpop_nonce, with the nonce to use in a
// DPoP-Nonce header (RFC 9449 §9); the Error carries it.
var ErrUseNonce = errors.New("use the server's DPoP nonce")

// DPoP modes.
const (
	// DPoPRequired accepts only DPoP-bound tokens, with their proofs.
	DPoPRequired = "required"
	// DPoPAllowed accepts DPoP-bound tokens with proofs, and bearer
	// tokens that are not bound. A bound token as a bearer token is
	// refused in both modes.
	DPoPAllowed = "allowed"
)

// DPoPAlgs are the proof algorithms accepted by default: asymmetric only.
var DPoPAlgs = []string{"ES256", "ES384", "EdDSA", "RS256", "PS256"}

// DPoPConfig configures a DPoPVerifier.
type DPoPConfig struct {
	Mode string // DPoPRequired or DPoPAllowed; default required
	// Algs are the proof algorithms accepted; default DPoPAlgs.
	Algs []string
	// Window is how far a proof's iat may lie from now, either way;
	// default 60 s. A proof is remembered (against replay) that long.
	Window time.Duration
	// Replay bounds the proofs remembered; default 1,000,000. Past it, a
	// proof is refused until the oldest expire (the server is being
	// flooded, and cannot prove the proof is new).
	Replay int
	// Nonce, when positive, makes every proof carry a nonce of the
	// server's (RFC 9449 §9): a new one every Nonce, the one before still
	// taken. A proof without one is refused with use_dpop_nonce and the
	// nonce to use; the middlewares send the current one with every
	// answer too.
	Nonce time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// nonces are a server's DPoP nonces: the current one and the one before.
type nonces struct {
	every     time.Duration
	mu        sync.Mutex
	cur, prev string
	since     time.Time
}

// at returns the nonces in force at now, making a new one when the
// current one is Nonce old.
func (n *nonces) at(now time.Time) (cur, prev string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cur == "" || now.Sub(n.since) >= n.every {
		n.prev, n.cur, n.since = n.cur, rand.Text(), now
	}
	return n.cur, n.prev
}

// DPoPVerifier checks DPoP proofs around another verifier, which checks the
// access token itself and reports its binding (Info.JKT).
type DPoPVerifier struct {
	next   Verifier
	cfg    DPoPConfig
	parser *jwt.Parser
	seen   replayCache
	nonces *nonces // with cfg.Nonce
}

// NewDPoP returns a DPoP verifier around next (nil for one that only
// checks token requests' proofs, with Proof).
func NewDPoP(next Verifier, cfg DPoPConfig) (*DPoPVerifier, error) {
	if cfg.Mode == "" {
		cfg.Mode = DPoPRequired
	}
	if cfg.Mode != DPoPRequired && cfg.Mode != DPoPAllowed {
		return nil, fmt.Errorf("DPoP mode %q: want %s or %s", cfg.Mode, DPoPRequired, DPoPAllowed)
	}
	if cfg.Algs == nil {
		cfg.Algs = DPoPAlgs
	}
	for _, a := range cfg.Algs {
		if !slices.Contains(DPoPAlgs, a) {
			return nil, fmt.Errorf("DPoP proof algorithm %q: want asymmetric, one of %v", a, DPoPAlgs)
		}
	}
	if cfg.Window == 0 {
		cfg.Window = time.Minute
	}
	if cfg.Replay == 0 {
		cfg.Replay = 1_000_000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &DPoPVerifier{next: next, cfg: cfg, seen: replayCache{max: cfg.Replay, at: map[string]time.Time{}}}
	if cfg.Nonce > 0 {
		v.nonces = &nonces{every: cfg.Nonce}
	}
	// Times are checked here, against the window both ways, not by the
	// parser (a proof carries no exp).
	v.parser = jwt.NewParser(jwt.WithValidMethods(cfg.Algs), jwt.WithoutClaimsValidation())
	return v, nil
}

// Nonce is the server nonce in force, for a DPoP-Nonce header on every
// answer (RFC 9449 §8.2 lets a server hand out the next nonce on success
// too, so that a client never has a call refused for a stale one); ""
// without nonces.
func (v *DPoPVerifier) Nonce() string {
	if v.nonces == nil {
		return ""
	}
	cur, _ := v.nonces.at(v.cfg.Now())
	return cur
}

// Algs are the proof algorithms accepted, for the challenge's algs.
func (v *DPoPVerifier) Algs() []string { return v.cfg.Algs }

// proofClaims are a DPoP proof's claims.
type proofClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   *int64 `json:"iat"`
	ATH   string `json:"ath"`
	Nonce string `json:"nonce"`
}

func (proofClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (proofClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (proofClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (proofClaims) GetIssuer() (string, error)                   { return "", nil }
func (proofClaims) GetSubject() (string, error)                  { return "", nil }
func (proofClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

func badProof(format string, a ...any) *Error {
	return &Error{Kind: ErrInvalidProof, Reason: fmt.Sprintf(format, a...)}
}

// Verify checks the token (by the verifier it wraps) and, for the DPoP
// scheme, its proof; a bound token under the bearer scheme is refused.
func (v *DPoPVerifier) Verify(ctx context.Context, token string, r Request) (*Info, error) {
	if r == nil {
		return nil, invalid("a DPoP-protected resource checks tokens with their request")
	}
	scheme, _, _ := strings.Cut(strings.TrimLeft(r.Header("Authorization"), " "), " ")
	dpop := strings.EqualFold(scheme, "DPoP")
	if !dpop && v.cfg.Mode == DPoPRequired {
		return nil, &Error{Kind: ErrInvalidToken, Reason: "this resource takes DPoP-bound tokens only (Authorization: DPoP)"}
	}
	if !dpop && r.HeaderCount("DPoP") > 0 {
		return nil, &Error{Kind: ErrMalformed, Reason: "a DPoP proof with a bearer token"}
	}
	var jkt string
	if dpop {
		var err error
		if jkt, err = v.proof(r, token); err != nil {
			return nil, err
		}
	}
	info, err := v.next.Verify(ctx, token, r)
	if err != nil {
		return nil, err
	}
	switch {
	case !dpop && info.JKT != "":
		return nil, invalid("a DPoP-bound token sent as a bearer token")
	case dpop && info.JKT == "":
		return nil, invalid("the token is not DPoP-bound (no cnf.jkt)")
	case dpop && info.JKT != jkt:
		return nil, badProof("the proof's key is not the one the token is bound to (cnf.jkt)")
	}
	return info, nil
}

// Proof checks the DPoP proof of a request to an authorization server's
// token endpoint (no access token yet, so no ath) and returns its key's
// thumbprint, the cnf.jkt to bind the token to.
func (v *DPoPVerifier) Proof(r Request) (jkt string, err error) { return v.proof(r, "") }

// proof checks the request's DPoP proof for token ("" at a token
// endpoint) and returns its key's thumbprint. The replay check comes
// last, so that only a proof valid in every other way takes a place in
// the cache.
func (v *DPoPVerifier) proof(r Request, token string) (string, error) {
	switch n := r.HeaderCount("DPoP"); {
	case n == 0:
		return "", badProof("no DPoP header")
	case n > 1:
		return "", badProof("%d DPoP headers; one proof per request", n)
	}
	raw := r.Header("DPoP")
	if len(raw) > MaxTokenBytes {
		return "", badProof("proof of %d bytes; at most %d", len(raw), MaxTokenBytes)
	}
	var c proofClaims
	var jkt string
	_, err := v.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "dpop+jwt" {
			return nil, badProof("typ %q is not dpop+jwt", typ)
		}
		key, thumb, err := publicJWK(t.Header["jwk"])
		if err != nil {
			return nil, err
		}
		jkt = thumb
		return key, nil
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return "", e
		}
		return "", badProof("%s", jwtReason(err))
	}
	now := v.cfg.Now()
	switch {
	case c.JTI == "" || len(c.JTI) > 256:
		return "", badProof("jti missing or over 256 bytes")
	case c.HTM != r.Method():
		return "", badProof("htm %q is not this request's method %s", c.HTM, r.Method())
	case !sameHTU(c.HTU, r.URL()):
		return "", badProof("htu %q is not this request's URL %s", c.HTU, r.URL())
	case c.IAT == nil:
		return "", badProof("no iat")
	case token == "" && c.ATH != "":
		return "", badProof("ath in a proof that comes with no access token")
	case token != "" && c.ATH == "":
		return "", badProof("no ath (the access token's hash)")
	case token != "" && c.ATH != tokenHash(token):
		return "", badProof("ath is not the hash of this access token")
	}
	iat := time.Unix(*c.IAT, 0)
	if d := now.Sub(iat); d > v.cfg.Window || d < -v.cfg.Window {
		return "", badProof("iat %s is %v from now; the window is ±%v", iat.UTC().Format(time.RFC3339), d.Round(time.Second), v.cfg.Window)
	}
	if v.nonces != nil {
		if cur, prev := v.nonces.at(now); c.Nonce == "" || c.Nonce != cur && c.Nonce != prev {
			return "", &Error{Kind: ErrUseNonce, Reason: "this server asks for its nonce in every proof: use the one in DPoP-Nonce", Nonce: cur}
		}
	}
	if !v.seen.add(jkt+"/"+c.JTI, now, iat.Add(v.cfg.Window)) {
		return "", badProof("proof replayed, or the replay cache is full")
	}
	return jkt, nil
}

// sameHTU compares a proof's htu with the request's URL: scheme, host and
// path, without query or fragment (RFC 9449 §4.3, item 9), the scheme and
// host without regard to case.
func sameHTU(htu, url string) bool {
	htu, _, _ = strings.Cut(htu, "#")
	htu, _, _ = strings.Cut(htu, "?")
	hs, hrest, ok1 := strings.Cut(htu, "://")
	us, urest, ok2 := strings.Cut(url, "://")
	if !ok1 || !ok2 || !strings.EqualFold(hs, us) {
		return false
	}
	hh, hp, _ := strings.Cut(hrest, "/")
	uh, up, _ := strings.Cut(urest, "/")
	return strings.EqualFold(hh, uh) && hp == up
}

// tokenHash is an access token's ath: base64url SHA-256 of its ASCII.
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// publicJWK turns a proof header's jwk into a public key and its RFC 7638
// thumbprint. A JWK that holds a private part is refused.
func publicJWK(v any) (crypto.PublicKey, string, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, "", badProof("no jwk in the proof's header")
	}
	str := func(k string) string { s, _ := m[k].(string); return s }
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, has := m[private]; has {
			return nil, "", badProof("the jwk holds a private or symmetric key (%q)", private)
		}
	}
	b64 := func(k string) ([]byte, error) {
		b, err := base64.RawURLEncoding.DecodeString(str(k))
		if err != nil || len(b) == 0 {
			return nil, badProof("jwk %q is not base64url", k)
		}
		return b, nil
	}
	// The thumbprint's members (RFC 7638 §3.2).
	var members map[string]string
	var key crypto.PublicKey
	switch kty := str("kty"); kty {
	case "EC":
		var curve elliptic.Curve
		switch str("crv") {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		default:
			return nil, "", badProof("jwk curve %q", str("crv"))
		}
		x, err := b64("x")
		if err != nil {
			return nil, "", err
		}
		y, err := b64("y")
		if err != nil {
			return nil, "", err
		}
		size := (curve.Params().BitSize + 7) / 8
		if len(x) != size || len(y) != size {
			return nil, "", badProof("jwk coordinates of %d and %d bytes on %s", len(x), len(y), str("crv"))
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil {
			return nil, "", badProof("jwk: %v", err)
		}
		key = pub
		members = map[string]string{"crv": str("crv"), "kty": kty, "x": str("x"), "y": str("y")}
	case "OKP":
		if str("crv") != "Ed25519" {
			return nil, "", badProof("jwk curve %q", str("crv"))
		}
		x, err := b64("x")
		if err != nil {
			return nil, "", err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, "", badProof("Ed25519 jwk of %d bytes", len(x))
		}
		key = ed25519.PublicKey(x)
		members = map[string]string{"crv": "Ed25519", "kty": kty, "x": str("x")}
	case "RSA":
		n, err := b64("n")
		if err != nil {
			return nil, "", err
		}
		e, err := b64("e")
		if err != nil {
			return nil, "", err
		}
		if len(n) < 256 || len(e) > 4 {
			return nil, "", badProof("RSA jwk of %d bits; at least 2048", 8*len(n))
		}
		key = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		members = map[string]string{"e": str("e"), "kty": kty, "n": str("n")}
	default:
		return nil, "", badProof("jwk type %q", kty)
	}
	return key, dpop.Thumbprint(members), nil
}

// replayCache remembers proofs until they leave the window; it sweeps the
// expired at most once a second, and refuses new ones when full.
type replayCache struct {
	mu    sync.Mutex
	max   int
	at    map[string]time.Time // key → when it may be forgotten
	swept time.Time
}

// add records key until `until`, and reports false if it was there.
func (c *replayCache) add(key string, now, until time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.at) >= c.max || now.Sub(c.swept) > time.Second {
		c.swept = now
		for k, t := range c.at {
			if t.Before(now) {
				delete(c.at, k)
			}
		}
	}
	if _, dup := c.at[key]; dup || len(c.at) >= c.max {
		return false
	}
	c.at[key] = until
	return true
}
