package serving

import (
	"context"
	"errors"
	"testing"
)

// TestUntil: a serve that fails first is its error; a done context shuts
// down, waits for serve, and returns the shutdown's error.
func TestUntil(t *testing.T) {
	boom := errors.New("boom")
	if err := Until(context.Background(), func() error { return boom }, func() error { t.Error("shut down a failed server"); return nil }); err != boom {
		t.Errorf("failing serve: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	served := false
	cancel()
	err := Until(ctx, func() error { <-stop; served = true; return errors.New("closed") }, func() error { close(stop); return boom })
	if err != boom || !served {
		t.Errorf("shutdown: %v, serve returned %v", err, served)
	}
}
