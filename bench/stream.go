package bench

import (
	"context"
	"errors"
	"time"
)

// ErrDial is wrapped by a StreamDriver's error when it could not connect:
// a connection that cannot be opened at setup starts broken, and each of
// its calls tries again and fails as a transport error, as a worker's
// would.
var ErrDial = errors.New("cannot connect")

// The engines that make a run's calls (Config.Engine).
const (
	// EngineAuto runs a StreamDriver's calls on the event loop and any
	// other driver's on workers.
	EngineAuto = ""
	// EngineLoop runs every call on one event loop: one OS thread, the
	// connections' sockets in epoll, a state machine per connection.
	// The driver must be a StreamDriver.
	EngineLoop = "loop"
	// EngineWorkers gives each connection a goroutine that makes one
	// blocking Call at a time, fed by a dispatcher.
	EngineWorkers = "workers"
)

// BatchAuto lets the event loop choose its batching window from the
// schedule's rate (see Config.Batch).
const BatchAuto time.Duration = -1

// AutoBatch is the window BatchAuto chooses at a given rate: none while
// requests are sparse, where a wake-up per request costs little CPU and
// any lateness would show in every latency; a millisecond (wrk2's timer
// granularity) once at least two requests fall due in one on average,
// where wake-ups are most of the generator's CPU.
func AutoBatch(rate float64) time.Duration {
	if rate < 2000 {
		return 0
	}
	return time.Millisecond
}

// A StreamDriver is a Driver whose calls can be made on the event loop:
// each connection is a socket the loop reads and writes itself, with the
// driver encoding requests and framing replies. Setup (discovery, tokens,
// a session) happens in OpenStream, on the blocking path.
type StreamDriver interface {
	Driver
	// Streamable says whether this driver's calls can run on the loop
	// (a driver may need the workers for some targets, such as HTTPS).
	Streamable() bool
	// OpenStream prepares one connection: dial, and whatever the stack
	// needs before calls. It is called from several goroutines at once
	// during setup, and again from the loop when a connection must be
	// replaced (after a timeout, an error, or a server's close).
	OpenStream(ctx context.Context, conn int) (Stream, error)
}

// A Stream is one connection of a StreamDriver, used by one loop.
type Stream interface {
	// Fd is the connected, non-blocking socket. The loop reads and writes
	// it directly and never closes it: Close does.
	Fd() int
	// Request appends the next call's request bytes to dst. An outcome
	// other than OK (no token to call with) means the call fails without
	// being sent.
	Request(dst []byte) ([]byte, Outcome)
	// Reply looks at the bytes read since the last reply. n == 0: a reply
	// is not complete yet. n > 0: the first n bytes are one reply, with
	// its outcome; keep false means the connection cannot carry another
	// call. n < 0: the bytes cannot be a reply; the connection is broken.
	Reply(buf []byte) (n int, o Outcome, keep bool)
	// Close ends the connection and releases the socket.
	Close() error
}
