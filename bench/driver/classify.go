package driver

import (
	"context"
	"errors"
	"net"
	"strings"
	"time"

	"github.com/mcpbench/mcpbench/bench"
	"github.com/valyala/fasthttp"
)

// ClassifyStatus is the default classification of a complete HTTP reply:
// 2xx is OK, 429 is ClassRateLimited, anything else ClassHTTP, each with
// the status as its code.
func ClassifyStatus(resp *fasthttp.Response) bench.Outcome {
	switch s := resp.StatusCode(); {
	case s >= 200 && s < 300:
		return bench.Outcome{Class: bench.OK, Code: s}
	case s == fasthttp.StatusTooManyRequests:
		return bench.Outcome{Class: bench.ClassRateLimited, Code: s}
	default:
		return bench.Outcome{Class: bench.ClassHTTP, Code: s}
	}
}

// ClassifyError classifies a failed exchange: a passed deadline is
// ClassTimeout, anything else ClassTransport.
func ClassifyError(err error) bench.Outcome {
	var ne net.Error
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return bench.Outcome{Class: bench.ClassTimeout}
	default:
		return bench.Outcome{Class: bench.ClassTransport}
	}
}

// SetupDeadline is ctx's deadline, or timeout from now when it has none.
func SetupDeadline(ctx context.Context, timeout time.Duration) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(timeout)
}

// Peek returns the first value of the response header name, matched
// without regard to case: the clients here keep header names as sent
// (DisableHeaderNamesNormalizing), and servers send them in any case
// (Node's lower-cases them all).
func Peek(h *fasthttp.ResponseHeader, name string) []byte {
	if v := h.Peek(name); v != nil {
		return v
	}
	for k, v := range h.All() {
		if len(k) == len(name) && strings.EqualFold(string(k), name) {
			return v
		}
	}
	return nil
}
