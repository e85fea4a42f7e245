package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// JWTConfig configures a JWT verifier. Zero values mean the documented
// defaults; Issuer, Audience and a key source are required.
type JWTConfig struct {
	// Issuer must equal the token's iss.
	Issuer string
	// Audience is this resource's URL; the token's aud must contain it.
	Audience string
	// JWKSURL is where the issuer publishes its keys (RS256, ES256, EdDSA).
	JWKSURL string
	// HMACSecret is the shared key for HS256 tokens. HS256 is accepted
	// only when it is set, and then only with it.
	HMACSecret []byte
	// Algorithms are the ones accepted; nil means RS256, ES256 and EdDSA
	// (and HS256 when HMACSecret is set). Each key is further pinned to
	// its own algorithm.
	Algorithms []string
	// Skew is the clock leeway for exp, nbf and iat; 0 means 30s.
	Skew time.Duration
	// AllowAnyType accepts tokens whose typ is not at+jwt (RFC 9068
	// requires it; some issuers do not set it).
	AllowAnyType bool
	// RefetchEvery bounds JWKS refetches on an unknown kid: at most one
	// per interval; 0 means 1 minute. The set is also refreshed hourly.
	RefetchEvery time.Duration
	// Client fetches the JWKS; nil means a client with a 10s timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// JWTVerifier checks JWT access tokens locally, with keys from a JWKS.
type JWTVerifier struct {
	cfg    JWTConfig
	keys   keyfunc.Keyfunc // nil with HS256 only
	parser *jwt.Parser
}

var _ Verifier = (*JWTVerifier)(nil)

// NewJWT makes a verifier and fetches the JWKS once; ctx ends its
// background refreshes.
func NewJWT(ctx context.Context, cfg JWTConfig) (*JWTVerifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" {
		return nil, errors.New("auth: a JWT verifier needs Issuer and Audience")
	}
	if cfg.JWKSURL == "" && cfg.HMACSecret == nil {
		return nil, errors.New("auth: a JWT verifier needs JWKSURL or HMACSecret")
	}
	if cfg.Algorithms == nil {
		if cfg.JWKSURL != "" {
			cfg.Algorithms = []string{"RS256", "ES256", "EdDSA"}
		}
		if cfg.HMACSecret != nil {
			cfg.Algorithms = append(cfg.Algorithms, "HS256")
		}
	}
	for _, a := range cfg.Algorithms {
		if _, ok := keyType[a]; !ok {
			return nil, fmt.Errorf("auth: algorithm %q: want RS256, ES256, EdDSA or HS256", a)
		}
	}
	if slices.Contains(cfg.Algorithms, "HS256") && len(cfg.HMACSecret) < 32 {
		return nil, errors.New("auth: HS256 needs an HMACSecret of at least 32 bytes")
	}
	if cfg.Skew == 0 {
		cfg.Skew = 30 * time.Second
	}
	if cfg.RefetchEvery == 0 {
		cfg.RefetchEvery = time.Minute
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &JWTVerifier{cfg: cfg}
	if cfg.JWKSURL != "" {
		noErr := false // fail now if the first fetch fails
		k, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{cfg.JWKSURL}, keyfunc.Override{
			Client:                    cfg.Client,
			HTTPTimeout:               10 * time.Second,
			NoErrorReturnFirstHTTPReq: &noErr,
			RefreshUnknownKID:         rate.NewLimiter(rate.Every(cfg.RefetchEvery), 1),
			// A refetch the limiter does not allow within this is refused at
			// once (rate.Limiter.Wait fails early); one it allows gets this
			// long to fetch.
			RateLimitWaitMax:        5 * time.Second,
			RefreshErrorHandlerFunc: func(string) func(context.Context, error) { return func(context.Context, error) {} },
		})
		if err != nil {
			return nil, fmt.Errorf("auth: fetching the JWKS at %s: %w", cfg.JWKSURL, err)
		}
		v.keys = k
	}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithAudience(cfg.Audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Skew),
		jwt.WithTimeFunc(cfg.Now),
	)
	return v, nil
}

// keyType is the Go key type each algorithm verifies with: a key of
// another type is never used for it (no RSA public key as an HMAC secret).
var keyType = map[string]func(any) bool{
	"RS256": func(k any) bool { r, ok := k.(*rsa.PublicKey); return ok && r.N.BitLen() >= 2048 },
	"ES256": func(k any) bool { e, ok := k.(*ecdsa.PublicKey); return ok && e.Curve == elliptic.P256() },
	"EdDSA": func(k any) bool { _, ok := k.(ed25519.PublicKey); return ok },
	"HS256": func(k any) bool { _, ok := k.([]byte); return ok },
}

// accessClaims are the RFC 9068 claims the verifier reads.
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	CNF      *struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
}

// Verify checks the token's signature, type, issuer, audience and times.
func (v *JWTVerifier) Verify(ctx context.Context, token string, r Request) (*Info, error) {
	if len(token) > MaxTokenBytes {
		return nil, invalid("token of %d bytes; at most %d", len(token), MaxTokenBytes)
	}
	var c accessClaims
	t, err := v.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) { return v.key(ctx, t) })
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, invalid("%s", jwtReason(err))
	}
	if !v.cfg.AllowAnyType {
		if typ, _ := t.Header["typ"].(string); !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
			return nil, invalid("token type %q is not at+jwt (RFC 9068)", typ)
		}
	}
	if c.Subject == "" {
		return nil, invalid("no sub claim")
	}
	info := &Info{
		Subject: c.Subject, ClientID: c.ClientID, Issuer: c.Issuer, Audience: c.Audience,
		Scopes: strings.Fields(c.Scope), Expiry: c.ExpiresAt.Time, ID: c.ID,
	}
	if c.CNF != nil {
		if c.CNF.JKT == "" {
			return nil, invalid("a cnf claim without jkt: bound to nothing this resource checks")
		}
		info.JKT = c.CNF.JKT
	}
	return info, nil
}

// key finds the key for a token: HS256 uses the shared secret; the others
// a JWKS key chosen by kid, pinned to its own algorithm and key type.
func (v *JWTVerifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	if alg == "HS256" {
		if v.cfg.HMACSecret == nil {
			return nil, invalid("HS256 is not accepted")
		}
		return v.cfg.HMACSecret, nil
	}
	if v.keys == nil {
		return nil, invalid("%s is not accepted", alg)
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, invalid("no kid in the token header")
	}
	jwk, err := v.keys.Storage().KeyRead(ctx, kid)
	if err != nil {
		// Not in the set, and a refetch found nothing, failed, or was not
		// allowed yet by the rate limit: the key is unknown.
		return nil, invalid("unknown key id %q", kid)
	}
	if ka := string(jwk.Marshal().ALG); ka != "" && ka != alg {
		return nil, invalid("key %q is for %s, the token says %s", kid, ka, alg)
	}
	if use := jwk.Marshal().USE; use != "" && use != jwkset.UseSig {
		return nil, invalid("key %q is not a signing key", kid)
	}
	key := jwk.Key()
	if !keyType[alg](key) {
		return nil, invalid("key %q does not fit %s", kid, alg)
	}
	return key, nil
}

// jwtReason says in a few words why jwt/v5 refused a token.
func jwtReason(err error) string {
	for _, r := range []struct {
		err error
		why string
	}{
		{jwt.ErrTokenMalformed, "malformed token"},
		{jwt.ErrTokenUnverifiable, "unverifiable token"},
		{jwt.ErrTokenSignatureInvalid, "bad signature"},
		{jwt.ErrTokenExpired, "token expired"},
		{jwt.ErrTokenNotValidYet, "token not valid yet"},
		{jwt.ErrTokenUsedBeforeIssued, "token issued in the future"},
		{jwt.ErrTokenInvalidIssuer, "wrong issuer"},
		{jwt.ErrTokenInvalidAudience, "token not meant for this resource (aud)"},
		{jwt.ErrTokenRequiredClaimMissing, "a required claim is missing"},
		{jwt.ErrTokenInvalidClaims, "invalid claims"},
	} {
		if errors.Is(err, r.err) {
			return r.why
		}
	}
	return "invalid token"
}
