package null

import "github.com/valyala/fasthttp"

// fastCtx is a reusable request context for handler benchmarks.
type fastCtx struct{ fasthttp.RequestCtx }

func (c *fastCtx) reset() {
	c.Response.Reset()
	c.Request.Header.SetMethod("GET")
	c.Request.SetRequestURI("/")
}
