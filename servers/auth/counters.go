package auth

import "sync/atomic"

// Counters are this process's counts of token checks by how they were
// answered: from a verified-token cache (hits) or not (misses), and the
// introspection requests sent to an authorization server. Every Cache and
// IntrospectionVerifier in the process adds to them, so that a server's
// counts can be read from outside (serve --stats-addr) while it runs.
var Counters struct {
	CacheHits, CacheMisses, Introspections atomic.Int64
}

// CounterValues are Counters read at one moment.
type CounterValues struct {
	CacheHits      int64 `json:"token_cache_hits"`
	CacheMisses    int64 `json:"token_cache_misses"`
	Introspections int64 `json:"introspections"`
}

// ReadCounters reads Counters.
func ReadCounters() CounterValues {
	return CounterValues{CacheHits: Counters.CacheHits.Load(), CacheMisses: Counters.CacheMisses.Load(), Introspections: Counters.Introspections.Load()}
}
