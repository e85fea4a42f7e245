package auth

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// CacheConfig bounds a verified-token cache.
type CacheConfig struct {
	// Size is the most tokens kept; 0 means 10,000.
	Size int
	// MaxAge bounds how long a token stays cached even when it expires
	// later (a revoked token is believed at most this long); 0 means 5
	// minutes.
	MaxAge time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Cache remembers tokens a Verifier accepted, keyed by their SHA-256, until
// the earlier of their expiry and MaxAge. Failures are not cached. It is
// bounded: when full, the oldest entry goes. A hit does not call the next
// verifier, so a proof bound to each request (DPoP) must be checked
// outside the cache, not by the verifier it wraps.
type Cache struct {
	next Verifier
	cfg  CacheConfig

	mu      sync.Mutex
	entries map[[32]byte]cacheEntry
	order   [][32]byte // insertion order, a ring
	head    int
}

type cacheEntry struct {
	info  *Info
	until time.Time
}

var _ Verifier = (*Cache)(nil)

// Cached wraps next with a cache.
func Cached(next Verifier, cfg CacheConfig) *Cache {
	if cfg.Size <= 0 {
		cfg.Size = 10_000
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Cache{next: next, cfg: cfg, entries: make(map[[32]byte]cacheEntry, cfg.Size), order: make([][32]byte, 0, cfg.Size)}
}

// Verify answers from the cache, or asks the wrapped verifier. The *Info
// returned is shared: callers must not modify it.
func (c *Cache) Verify(ctx context.Context, token string, r Request) (*Info, error) {
	if len(token) > MaxTokenBytes {
		return nil, invalid("token of %d bytes; at most %d", len(token), MaxTokenBytes)
	}
	key := sha256.Sum256([]byte(token))
	now := c.cfg.Now()
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		Counters.CacheHits.Add(1)
		return e.info, nil
	}
	Counters.CacheMisses.Add(1)
	info, err := c.next.Verify(ctx, token, r)
	if err != nil {
		return nil, err
	}
	until := now.Add(c.cfg.MaxAge)
	if info.Expiry.Before(until) {
		until = info.Expiry
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, there := c.entries[key]; !there {
		if len(c.order) < c.cfg.Size {
			c.order = append(c.order, key)
		} else {
			delete(c.entries, c.order[c.head])
			c.order[c.head] = key
			c.head = (c.head + 1) % c.cfg.Size
		}
	}
	c.entries[key] = cacheEntry{info, until}
	return info, nil
}

// Len returns how many tokens are cached.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
