package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"

	gql "github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"github.com/mcpbench/mcpbench/servers/auth"
)

// The extensions.code of the errors this package adds.
const (
	CodeDepthLimit       = "DEPTH_LIMIT_EXCEEDED"
	CodeComplexityLimit  = "COMPLEXITY_LIMIT_EXCEEDED" // gqlgen's extension.ComplexityLimit sets it
	CodeIntrospectionOff = "INTROSPECTION_DISABLED"
	CodeBadUserInput     = "BAD_USER_INPUT" // a tool refused its arguments
	CodeRateLimited      = "RATE_LIMITED"
	CodeBodyTooLarge     = "BODY_TOO_LARGE"
	CodeBadRequest       = "BAD_REQUEST" // an unreadable body
	CodeMethodNotAllowed = "METHOD_NOT_ALLOWED"
)

func init() {
	// Over a limit, a query is refused before it runs, like one that does
	// not validate: a request error (400 or 422), not a field error (200).
	// gqlgen keeps this table globally; registering at init is its API.
	for _, c := range []string{CodeDepthLimit, CodeComplexityLimit, CodeIntrospectionOff} {
		errcode.RegisterErrorType(c, errcode.KindProtocol)
	}
}

// queryLimits is a gqlgen extension that runs after parsing and
// validation, on every call. It measures the operation's depth (through
// fragments and inline fragments; a top-level field is depth 1) and
// refuses __schema and __type unless introspection is on: gqlgen itself
// would answer introspection with a field error at execution; refusing it
// here keeps it from running at all.
//
// It also counts the operation's complexity as gqlgen's default does
// (each field 1 plus its children; __schema 0), which is this schema's
// cost throughout, and refuses it over the limit before gqlgen's
// extension.ComplexityLimit runs. That extension walks a fragment again at
// every spread, so ten-token fragments that each spread the next one twice
// cost it 2^n steps (n=22: half a second; the token limit allows n≈95,
// which never ends). This walk visits each fragment once.
type queryLimits struct {
	maxDepth      int
	maxComplexity int
	introspection bool
}

var _ gql.OperationContextMutator = queryLimits{}

// ExtensionName names the extension to gqlgen.
func (queryLimits) ExtensionName() string { return "QueryLimits" }

// Validate accepts any schema.
func (queryLimits) Validate(gql.ExecutableSchema) error { return nil }

// MutateOperationContext checks the operation about to run.
func (q queryLimits) MutateOperationContext(_ context.Context, opCtx *gql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	w := walker{introspection: q.introspection, doc: opCtx.Doc}
	m := w.selectionSet(op.SelectionSet)
	if w.err != nil {
		return w.err
	}
	if m.depth > q.maxDepth {
		err := gqlerror.ErrorPosf(op.Position, "operation has depth %d, which exceeds the limit of %d", m.depth, q.maxDepth)
		errcode.Set(err, CodeDepthLimit)
		return err
	}
	if m.cost > q.maxComplexity {
		err := gqlerror.ErrorPosf(op.Position, "operation has complexity %d, which exceeds the limit of %d", m.cost, q.maxComplexity)
		if m.cost == maxCost {
			err.Message = fmt.Sprintf("operation has complexity of at least %d, which exceeds the limit of %d", maxCost, q.maxComplexity)
		}
		errcode.Set(err, CodeComplexityLimit)
		return err
	}
	return nil
}

// measure is what a selection set costs: its deepest nesting and its
// complexity.
type measure struct{ depth, cost int }

// maxCost is where complexity counts saturate.
const maxCost = math.MaxInt32

// walker measures selection sets. A fragment is measured once (memo), so
// a document whose fragments spread each other many times costs what its
// text costs, not what its expansion would.
type walker struct {
	introspection bool
	doc           *ast.QueryDocument
	memo          map[string]measure // by fragment name; depth -1 while being walked
	err           *gqlerror.Error
}

func (w *walker) selectionSet(set ast.SelectionSet) measure {
	var total measure
	for _, sel := range set {
		var m measure
		switch s := sel.(type) {
		case *ast.Field:
			switch {
			case s.Name != "__schema" && s.Name != "__type":
				m = w.selectionSet(s.SelectionSet)
				m = measure{depth: 1 + m.depth, cost: addCost(1, m.cost)}
			case !w.introspection:
				if w.err == nil {
					w.err = gqlerror.ErrorPosf(s.Position, "introspection is disabled")
					errcode.Set(w.err, CodeIntrospectionOff)
				}
			case s.Name == "__type":
				// The schema bounds an introspection query's depth (and
				// gqlparser's MaxIntrospectionDepth rule its ofType
				// chains); the standard one nests deeper than any limit
				// meant for data, so it counts as one level.
				m = measure{depth: 1, cost: addCost(1, w.selectionSet(s.SelectionSet).cost)}
			default: // __schema: gqlgen's complexity leaves it out
				m = measure{depth: 1}
			}
		case *ast.InlineFragment:
			m = w.selectionSet(s.SelectionSet)
		case *ast.FragmentSpread:
			m = w.fragment(s)
		}
		total = measure{depth: max(total.depth, m.depth), cost: addCost(total.cost, m.cost)}
	}
	return total
}

func (w *walker) fragment(s *ast.FragmentSpread) measure {
	if m, ok := w.memo[s.Name]; ok {
		if m.depth < 0 {
			return measure{} // a cycle; validation refuses them, this only guards
		}
		return m
	}
	def := s.Definition
	if def == nil && w.doc != nil {
		def = w.doc.Fragments.ForName(s.Name)
	}
	if def == nil {
		return measure{}
	}
	if w.memo == nil {
		w.memo = make(map[string]measure)
	}
	w.memo[s.Name] = measure{depth: -1}
	m := w.selectionSet(def.SelectionSet)
	w.memo[s.Name] = m
	return m
}

// addCost adds complexities, saturating at maxCost.
func addCost(a, b int) int {
	if a+b >= maxCost || a+b < a {
		return maxCost
	}
	return a + b
}

// bodyLimit reads the request body up to max bytes and answers 413 above
// it. gqlgen's POST transport reads the body itself, but answers a read
// error with a 200; reading it here gives the right status. The buffer is
// pooled; gqlgen copies what it keeps.
type bodyLimit struct {
	max  int64
	next http.Handler
}

type pooledBody struct {
	buf bytes.Buffer
	rd  bytes.Reader
}

func (b *pooledBody) Read(p []byte) (int, error) { return b.rd.Read(p) }
func (b *pooledBody) Close() error               { return nil }

var bodies = sync.Pool{New: func() any { return new(pooledBody) }}

// maxPooled is the largest buffer kept for reuse.
const maxPooled = 64 << 10

func (l *bodyLimit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > l.max {
		writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the request body is over "+strconv.FormatInt(l.max, 10)+" bytes")
		return
	}
	b := bodies.Get().(*pooledBody)
	defer func() {
		if b.buf.Cap() <= maxPooled {
			b.buf.Reset()
			b.rd.Reset(nil)
			bodies.Put(b)
		}
	}()
	if _, err := b.buf.ReadFrom(io.LimitReader(r.Body, l.max+1)); err != nil {
		writeError(w, http.StatusBadRequest, CodeBadRequest, "could not read the request body")
		return
	}
	if int64(b.buf.Len()) > l.max {
		writeError(w, http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "the request body is over "+strconv.FormatInt(l.max, 10)+" bytes")
		return
	}
	b.rd.Reset(b.buf.Bytes())
	r.Body = b
	l.next.ServeHTTP(w, r)
}

// rateLimit is a token bucket per subject: the token's subject when a
// middleware put one in the context, else the client's IP address. It is
// evaluated on every request, tripping or not.
type rateLimit struct {
	limit rate.Limit
	burst int
	next  http.Handler

	mu       sync.RWMutex
	limiters map[string]*rate.Limiter
}

// maxSubjects bounds the limiters kept; past it they are all dropped (and
// every subject starts again with a full bucket), so that a stream of new
// addresses or subjects cannot grow memory without bound.
const maxSubjects = 1 << 16

func newRateLimit(perSecond float64, burst int, next http.Handler) *rateLimit {
	return &rateLimit{limit: rate.Limit(perSecond), burst: burst, next: next, limiters: make(map[string]*rate.Limiter)}
}

func (l *rateLimit) limiter(key string) *rate.Limiter {
	l.mu.RLock()
	lim, ok := l.limiters[key]
	l.mu.RUnlock()
	if ok {
		return lim
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if lim, ok = l.limiters[key]; ok {
		return lim
	}
	if len(l.limiters) >= maxSubjects {
		clear(l.limiters)
	}
	lim = rate.NewLimiter(l.limit, l.burst)
	l.limiters[key] = lim
	return lim
}

// subject is whom a request is counted against.
func subject(r *http.Request) string {
	if info := auth.InfoFromContext(r.Context()); info != nil && info.Subject != "" {
		return info.Subject
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (l *rateLimit) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lim := l.limiter(subject(r))
	if !lim.Allow() {
		res := lim.Reserve()
		d := res.Delay()
		res.Cancel()
		secs := int64(math.Ceil(d.Seconds()))
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		writeError(w, http.StatusTooManyRequests, CodeRateLimited, "too many requests; retry after "+strconv.FormatInt(secs, 10)+" s")
		return
	}
	l.next.ServeHTTP(w, r)
}

// writeError answers status with a GraphQL-shaped body: one error, with
// extensions.code, and no "data" (nothing ran).
func writeError(w http.ResponseWriter, status int, code, message string) {
	b, _ := json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
	}{gqlerror.List{{Message: message, Extensions: map[string]any{"code": code}}}})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}
