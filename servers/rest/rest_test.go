package rest

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestREST(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- Serve(ctx, ln, Options{MaxBody: 4096}) }()
	defer func() { cancel(); <-done }()
	base := "http://" + ln.Addr().String()
	for _, tc := range []struct {
		name, method, path, ctype, body string
		status                          int
		want                            string
	}{
		{"echo", "POST", "/tools/echo", "application/json", `{"message":"hi \"x\""}`, 200, `{"result":"hi \"x\""}`},
		{"payload", "POST", "/tools/payload", "application/json", `{"bytes":5}`, 200, `{"result":"abcde"}`},
		{"no content type", "POST", "/tools/echo", "", `{"message":"a"}`, 200, `{"result":"a"}`},
		{"bad argument", "POST", "/tools/compute", "application/json", `{"rounds":-1}`, 400, `"rounds\" is -1`},
		{"wrong type", "POST", "/tools/compute", "application/json", `{"rounds":"x"}`, 400, `must be an integer`},
		{"malformed JSON", "POST", "/tools/echo", "application/json", `{"message":`, 400, `JSON object`},
		{"unknown tool", "POST", "/tools/rm", "application/json", `{}`, 404, `unknown tool`},
		{"no tool", "POST", "/tools/", "application/json", `{}`, 404, `no such resource`},
		{"elsewhere", "POST", "/admin", "application/json", `{}`, 404, `no such resource`},
		{"GET", "GET", "/tools/echo", "", ``, 405, `use POST`},
		{"wrong content type", "POST", "/tools/echo", "text/plain", `{"message":"a"}`, 415, `application/json`},
		{"oversized body", "POST", "/tools/echo", "application/json", `{"message":"` + strings.Repeat("x", 5000) + `"}`, 413, `too large`},
		{"still serving", "POST", "/tools/echo", "application/json", `{"message":"ok"}`, 200, `{"result":"ok"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
				t.Errorf("%d %s; want %d with %s", resp.StatusCode, b, tc.status, tc.want)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func BenchmarkEcho(b *testing.B) {
	h := Handler()
	var ctx fasthttp.RequestCtx
	body := []byte(`{"message":"hello"}`)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod("POST")
		ctx.Request.SetRequestURI("/tools/echo")
		ctx.Request.SetBody(body)
		h(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatal(ctx.Response.StatusCode())
		}
	}
}
