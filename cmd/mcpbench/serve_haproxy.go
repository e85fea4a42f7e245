package main

import "fmt"

// haproxySpec runs HAProxy as the gateway; it lands with servers/gateway's
// HAProxy support.
func haproxySpec(upstream string, keys []string, rateLimit float64, af *authFlags) (serveSpec, error) {
	return serveSpec{}, fmt.Errorf("--impl haproxy is not built yet")
}
