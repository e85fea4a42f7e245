package authserver

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Algorithms this server signs with.
var Algorithms = []string{"HS256", "RS256", "ES256", "EdDSA"}

// signingKey is one key the server signs or once signed with.
type signingKey struct {
	kid     string
	alg     string
	method  jwt.SigningMethod
	private any // []byte for HS256
	public  any // nil for HS256: a shared secret is never published
	retired time.Time
}

// newKey makes a fresh key for alg. secret, when given, is HS256's key.
func newKey(alg string, secret []byte) (*signingKey, error) {
	k := &signingKey{alg: alg, kid: randomID(12)}
	switch alg {
	case "HS256":
		k.method = jwt.SigningMethodHS256
		if secret == nil {
			secret = make([]byte, 32)
			rand.Read(secret)
		}
		k.private = secret
	case "RS256":
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		k.method, k.private, k.public = jwt.SigningMethodRS256, key, key.Public()
	case "ES256":
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		k.method, k.private, k.public = jwt.SigningMethodES256, key, key.Public()
	case "EdDSA":
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		k.method, k.private, k.public = jwt.SigningMethodEdDSA, priv, pub
	default:
		return nil, fmt.Errorf("algorithm %q: want one of %v", alg, Algorithms)
	}
	return k, nil
}

// keyring holds the current signing key and the retired ones still
// published, until every token they signed has expired.
type keyring struct {
	mu      sync.RWMutex
	alg     string
	secret  []byte
	ttl     time.Duration
	current *signingKey
	old     []*signingKey
}

func (r *keyring) signer() *signingKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.current
}

// rotate makes a new current key; the old one stays published for ttl.
func (r *keyring) rotate(now time.Time) error {
	k, err := newKey(r.alg, r.secret)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.current != nil {
		r.current.retired = now
		r.old = append(r.old, r.current)
	}
	r.current = k
	r.prune(now)
	return nil
}

// prune drops retired keys whose last tokens have expired. Callers hold mu.
func (r *keyring) prune(now time.Time) {
	kept := r.old[:0]
	for _, k := range r.old {
		if now.Before(k.retired.Add(r.ttl)) {
			kept = append(kept, k)
		}
	}
	r.old = kept
}

// byKID finds a published key, current or retired.
func (r *keyring) byKID(kid string, now time.Time) *signingKey {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.current.kid == kid {
		return r.current
	}
	for _, k := range r.old {
		if k.kid == kid && now.Before(k.retired.Add(r.ttl)) {
			return k
		}
	}
	return nil
}

// jwks is the JSON Web Key Set of the public keys: the current key first,
// then the retired ones still in use. HS256 publishes none.
func (r *keyring) jwks(now time.Time) ([]byte, error) {
	r.mu.Lock()
	r.prune(now)
	keys := append([]*signingKey{r.current}, r.old...)
	r.mu.Unlock()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range keys {
		if k.public == nil {
			continue
		}
		j, err := jwkset.NewJWKFromKey(k.public, jwkset.JWKOptions{Metadata: jwkset.JWKMetadataOptions{
			ALG: jwkset.ALG(k.alg), KID: k.kid, USE: jwkset.UseSig,
		}})
		if err != nil {
			return nil, fmt.Errorf("JWK of key %s: %w", k.kid, err)
		}
		set.Keys = append(set.Keys, j.Marshal())
	}
	return json.Marshal(set)
}

// PublicKey returns the current public key (nil for HS256), for tests and
// for validators configured with a key instead of a JWKS URL.
func (s *Server) PublicKey() crypto.PublicKey { return s.keys.signer().public }

// KeyID returns the current signing key's id.
func (s *Server) KeyID() string { return s.keys.signer().kid }

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
