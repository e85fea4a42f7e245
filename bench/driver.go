package bench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Class says how one call ended. A failed call is data: the runner counts it
// by class, it is never returned as an error.
type Class uint8

// The outcome classes. Only OK calls enter the latency histograms.
const (
	OK               Class = iota
	ClassTransport         // dial, reset, broken pipe, unreadable reply
	ClassHTTP              // an HTTP status other than 2xx and 429
	ClassProtocol          // a JSON-RPC or GraphQL error in a 2xx reply
	ClassRateLimited       // HTTP 429, counted apart: a limiter doing its job
	ClassTimeout           // no complete reply before the call's deadline
	ClassToken             // no token to call with: the authorization server failed
	numClasses
)

var classNames = [numClasses]string{"ok", "transport", "http", "protocol", "rate_limited", "timeout", "token"}

// String returns the class's name as it appears in results: "ok",
// "transport", "http", "protocol", "rate_limited", "timeout" or "token".
func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// Outcome is what one call came to.
type Outcome struct {
	Class Class
	// Code refines the class: the HTTP status for ClassHTTP and
	// ClassRateLimited, the JSON-RPC or GraphQL error code for ClassProtocol.
	Code int
}

// A Driver says how to call one stack. Run calls Open once per worker before
// the clock starts, then each Conn from its own worker goroutine. Open may be
// called from several goroutines at once. Whoever made the driver closes it,
// after Run has returned; one driver may serve several runs.
type Driver interface {
	// Open prepares one worker's connection: dial, initialize a session,
	// fetch a token. Its time is reported as setup, apart from calls.
	Open(ctx context.Context, worker int) (Conn, error)
	// Close releases what the driver holds.
	Close() error
}

// A Conn makes calls for one worker. It is used by one goroutine at a time.
type Conn interface {
	// Call makes one call and returns when its reply is complete, or with
	// ClassTimeout once deadline has passed.
	Call(deadline time.Time) Outcome
	// Close ends the connection (an MCP session is deleted here). Run may
	// call it while a Call is still blocked, when it gives up on that call
	// at the end of its grace: Close must then make the Call return.
	Close() error
}

// Preparer is implemented by drivers with one-time setup before any
// connection opens: discovery, token acquisition, a JWKS fetch. The runner
// times it apart from the calls.
type Preparer interface {
	Prepare(ctx context.Context) error
}

// TokenSource hands out the bearer token for each call; *oauth.Client is one.
// Token is called from several workers at once.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// PhaseReporter is implemented by drivers whose Prepare has steps worth
// timing apart (OAuth discovery, token, JWKS fetch); Run reports them
// after Prepare. SetupPhases returns the last Prepare's steps in a new map
// each call: the caller keeps it, and the next Prepare does not change it.
type PhaseReporter interface {
	SetupPhases() map[string]time.Duration
}

// ByteCounter is implemented by drivers that count the bytes they move on
// the wire (headers included), read and written since they started.
// It is safe to call while calls are running.
type ByteCounter interface {
	Bytes() (read, written int64)
}

// TLSReporter is implemented by drivers that make HTTPS connections.
// TakeTLS returns what the handshakes since the last TakeTLS negotiated
// and took, and starts counting afresh; nil when there were none. Run
// takes it before its setup and at its end.
type TLSReporter interface {
	TakeTLS() *TLSInfo
}

// HTTP2Reporter is implemented by drivers that can call over HTTP/2:
// HTTP2 reports how, or nil when the calls are HTTP/1.1.
type HTTP2Reporter interface {
	HTTP2() *HTTP2Info
}

// Counter is implemented by drivers that count events of their protocol
// worth reporting (MCP sessions started and lost). TakeCounters returns
// the counts since the last call and starts afresh; Run takes them before
// its setup and at its end, so a result's counts cover its setup,
// warm-up and measured calls.
type Counter interface {
	TakeCounters() map[string]int64
}

// ServerCPUReader is implemented by drivers that start the server
// processes they call (a stdio server per connection), so that the CPU a
// run costs the server is known without a server process of the caller's.
// ServerCPU returns the CPU time (user + system, to the nanosecond) that
// every process the driver has started has used since it started, summed:
// live ones as read now (with their live descendants), exited ones as
// their final CPU time once reaped. The sum never decreases, so that the
// difference between two reads is what those processes used in between,
// even when some exited in between. When a process's CPU cannot be read
// (it exited and its final CPU time is not known yet), ServerCPU returns
// an error, not a smaller sum. It is safe to call from any goroutine,
// while calls are made and connections open and close, and after Close.
type ServerCPUReader interface {
	ServerCPU() (time.Duration, error)
}

// ErrSetup is wrapped by every error from a driver's setup (Prepare or Open),
// so callers can tell a stack that never came up from a run that ended.
var ErrSetup = errors.New("setup failed")
