package bench

import (
	"errors"
	"fmt"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Percentiles summarise one histogram. Values are nanoseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	Min   int64   `json:"min_ns"`
	Mean  float64 `json:"mean_ns"`
	P50   int64   `json:"p50_ns"`
	P90   int64   `json:"p90_ns"`
	P99   int64   `json:"p99_ns"`
	P999  int64   `json:"p99_9_ns"`
	P9999 int64   `json:"p99_99_ns"`
	Max   int64   `json:"max_ns"`
}

// quantiles are the percentiles every summary reports, in the order of the
// Percentiles fields.
var quantiles = []float64{50, 90, 99, 99.9, 99.99}

// PercentilesOf reads the summary's percentiles off h.
func PercentilesOf(h *hdr.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	v := h.ValueAtPercentilesSlice(quantiles)
	return Percentiles{
		Count: h.TotalCount(), Min: h.Min(), Mean: h.Mean(),
		P50: v[0], P90: v[1], P99: v[2], P999: v[3], P9999: v[4], Max: h.Max(),
	}
}

// Interval is one slice of a run, normally a second long: the progress line
// and timeseries.csv are made of these.
type Interval struct {
	Start, End time.Duration // offsets from the run's start, warm-up included
	Warmup     bool          // the interval lies in the warm-up
	Target     float64       // target rate at the interval's end, per second (open loop)
	Started    uint64        // measured calls sent in the interval
	ByClass    [numClasses]uint64
	// Errors are failed calls of unknown class, of an interval merged from
	// results on disk (timeseries.csv keeps ok and errors, not classes).
	Errors   uint64
	InFlight int // measured calls out at the interval's end
	Response Percentiles
	Service  Percentiles
	Lag      Percentiles
}

// Completed is the number of measured calls that ended in the interval.
func (iv Interval) Completed() uint64 {
	n := iv.Errors
	for _, c := range iv.ByClass {
		n += c
	}
	return n
}

// Rate is the interval's completion rate, per second.
func (iv Interval) Rate() float64 {
	d := (iv.End - iv.Start).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(iv.Completed()) / d
}

// Accounting says what became of every measured request the schedule called
// for: Scheduled = OK + Errors + InFlight + Queued, checked at the end of
// every run. In an open loop Scheduled is the pacer's count and Queued is
// counted where requests wait (at the dispatcher, in the queue, in a
// worker's hand), so a request lost on the way unbalances it.
type Accounting struct {
	Scheduled uint64            `json:"scheduled"`
	Sent      uint64            `json:"sent"`
	OK        uint64            `json:"ok"`
	Errors    uint64            `json:"errors"`
	ByClass   map[string]uint64 `json:"errors_by_class,omitempty"`
	ByCode    map[string]uint64 `json:"errors_by_code,omitempty"` // "http 503", "protocol -32601"
	InFlight  uint64            `json:"in_flight_at_end"`         // sent, no reply when the run ended
	Queued    uint64            `json:"queued_at_end"`            // due, never sent (0 in a closed loop)
	Clamped   uint64            `json:"clamped,omitempty"`        // latencies over an hour, recorded as an hour
}

// ErrAccounting is wrapped by Check when the books do not balance: a bug in
// mcpbench, never the server's fault.
var ErrAccounting = errors.New("accounting mismatch")

// Check verifies the accounting identity.
func (a Accounting) Check() error {
	var byClass uint64
	for _, n := range a.ByClass {
		byClass += n
	}
	switch {
	case a.Sent > a.Scheduled:
		return fmt.Errorf("%w: sent %d of %d scheduled", ErrAccounting, a.Sent, a.Scheduled)
	case a.OK+a.Errors+a.InFlight != a.Sent:
		return fmt.Errorf("%w: sent %d ≠ ok %d + errors %d + in flight %d", ErrAccounting, a.Sent, a.OK, a.Errors, a.InFlight)
	case byClass != a.Errors:
		return fmt.Errorf("%w: errors %d ≠ %d counted by class", ErrAccounting, a.Errors, byClass)
	case a.Scheduled != a.OK+a.Errors+a.InFlight+a.Queued:
		return fmt.Errorf("%w: scheduled %d ≠ ok %d + errors %d + in flight %d + queued %d",
			ErrAccounting, a.Scheduled, a.OK, a.Errors, a.InFlight, a.Queued)
	}
	return nil
}

// Setup is the cold path, timed apart from the calls.
type Setup struct {
	Prepare   time.Duration `json:"prepare_ns"`    // Driver.Prepare: discovery, token, JWKS
	OpenTotal time.Duration `json:"open_total_ns"` // all workers' Open, run in parallel
	OpenMax   time.Duration `json:"open_max_ns"`   // the slowest Open
	FirstCall time.Duration `json:"first_call_ns"` // one call on a fresh connection
	// Phases break Prepare down (oauth_discovery, oauth_token, …) for
	// drivers that are PhaseReporters.
	Phases map[string]time.Duration `json:"phases_ns,omitempty"`
}

// Result is one run of one target: what summary.json reports of it.
type Result struct {
	Name     string `json:"name"`
	Target   string `json:"target"`
	Model    string `json:"load_model"` // "open" or "closed"
	Schedule string `json:"schedule"`   // the pacer, or "closed loop, N connections"
	// Engine is what made the calls: "loop" (the event loop) or "workers";
	// Batch the event loop's batching window in an open loop ("auto", or
	// a duration; "0s" = a wake-up per due time).
	Engine string `json:"engine,omitempty"`
	Batch  string `json:"batch,omitempty"`
	// ReplyTimes is "kernel" when a batched loop timed its replies by the
	// kernel's receive timestamp of their last byte (it reads them at its
	// next batch); empty when each reply was timed as it was read;
	// "mixed" in a merge of both.
	ReplyTimes string `json:"reply_times,omitempty"`
	// Shard is "I/N" for one of N generators sharing a schedule; Shards
	// is how many were merged into this result (mcpbench merge).
	Shard  string `json:"shard,omitempty"`
	Shards int    `json:"shards,omitempty"`
	// Step and Round place a scenario's segment in its plan: the index of
	// the segment in the run's order (from 0), and its round.
	Step  int `json:"step,omitempty"`
	Round int `json:"round,omitempty"`
	// StartAt is the wall-clock instant the schedule was given to start
	// at (--start-at), and Clock the state of this machine's clock then.
	StartAt     *time.Time    `json:"start_at,omitempty"`
	Clock       *ClockInfo    `json:"clock,omitempty"`
	TargetRate  float64       `json:"target_rate"`
	Achieved    float64       `json:"achieved_rate"` // completed calls per second of the measured segment
	Connections int           `json:"connections"`
	Warmup      time.Duration `json:"warmup_ns"`
	Duration    time.Duration `json:"duration_ns"` // the measured segment as it ran
	Timeout     time.Duration `json:"timeout_ns"`
	Started     time.Time     `json:"started"`
	Interrupted bool          `json:"interrupted"` // cancelled before the schedule ended
	Accounting  Accounting    `json:"accounting"`
	Response    Percentiles   `json:"response_time"`
	Service     Percentiles   `json:"service_time"`
	Lag         Percentiles   `json:"schedule_lag"`
	Setup       Setup         `json:"setup"`

	GeneratorCPU     time.Duration `json:"generator_cpu_ns"`
	GeneratorCPUCall float64       `json:"generator_cpu_per_call_ns"`
	ServerCPU        time.Duration `json:"server_cpu_ns,omitempty"`
	ServerCPUCall    float64       `json:"server_cpu_per_call_ns,omitempty"`
	// ServerCPUNote says why ServerCPU is missing, when it is, so that a
	// table's "-" carries its reason: CPUNoteExternal, or what reading it
	// failed on. Set by whoever knows there is no process to read (the
	// caller of Run); empty when ServerCPU was measured.
	ServerCPUNote string   `json:"server_cpu_note,omitempty"`
	BytesRead     int64    `json:"bytes_read,omitempty"`
	BytesWritten  int64    `json:"bytes_written,omitempty"`
	BytesPerCall  float64  `json:"bytes_per_call,omitempty"` // both ways
	Warnings      []string `json:"warnings,omitempty"`
	// TokenPoolMisses counts the calls that found the fresh-token pool
	// empty and fetched a token inside the call (it should be 0).
	TokenPoolMisses int64 `json:"token_pool_misses,omitempty"`
	// TLS is what the run's HTTPS connections negotiated, and their
	// handshakes' times; nil for plain HTTP.
	TLS *TLSInfo `json:"tls,omitempty"`
	// Counters are the driver's own counts over the run, setup included
	// (mcp_sessions_started, mcp_sessions_lost).
	Counters map[string]int64 `json:"counters,omitempty"`
	// HTTP2 is how the calls were multiplexed, for HTTP/2; nil for HTTP/1.1.
	HTTP2 *HTTP2Info `json:"http2,omitempty"`

	// The merged histograms and the per-interval figures; written to the
	// .hgrm, .hlog and timeseries.csv files, not to summary.json.
	Histograms  struct{ Response, Service, Lag *hdr.Histogram } `json:"-"`
	Intervals   []Interval                                      `json:"-"`
	IntervalLog []byte                                          `json:"-"`
}

// CPUNoteExternal is the ServerCPUNote of a target reached by URL: the
// server is no process of the harness's, so its CPU cannot be read.
const CPUNoteExternal = "not measured: external URL, no process to read"

// Calls is the number of measured calls that completed, whatever their class.
func (r *Result) Calls() uint64 { return r.Accounting.OK + r.Accounting.Errors }

// TLSInfo is what a run's HTTPS connections negotiated and what their
// handshakes took, over the whole run (setup, warm-up and measured calls:
// with a new connection per call, nearly all are measured calls'). A field
// that took several values lists them, most frequent first, with counts.
type TLSInfo struct {
	Version     string `json:"version"`      // "TLS 1.3"
	CipherSuite string `json:"cipher_suite"` // "TLS_AES_128_GCM_SHA256"
	Group       string `json:"group"`        // the key exchange: "X25519MLKEM768"
	ALPN        string `json:"alpn,omitempty"`
	Handshakes  int64  `json:"handshakes"`
	Resumed     int64  `json:"resumed"` // of Handshakes, how many resumed a session (a ticket)
	Failed      int64  `json:"failed,omitempty"`
	// Handshake is the time from the TCP connection's being up to the
	// handshake's end: the client's work, the server's and the round trip
	// (one in TLS 1.3, full or resumed; two in a full TLS 1.2 handshake).
	Handshake Percentiles    `json:"handshake"`
	Histogram *hdr.Histogram `json:"-"`
}

// HTTP2Info is how an HTTP/2 run's calls were carried: Streams callers
// (the run's connections setting: at most that many calls in flight)
// over Connections TCP connections, each allowed one (a caller past the
// server's stream limit waits for a stream, so the count never grows).
// Dials counts the connections made since the driver was made, more than
// Connections only when one broke and was made again.
type HTTP2Info struct {
	Connections int   `json:"connections"`
	Streams     int   `json:"streams"`
	Dials       int64 `json:"dials"`
	// ServerMaxStreams is the server's stream limit per connection
	// (SETTINGS_MAX_CONCURRENT_STREAMS, the least its connections said).
	ServerMaxStreams uint32 `json:"server_max_streams,omitempty"`
}
