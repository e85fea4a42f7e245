package bench_test

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpbench/mcpbench/bench"
)

// instant is the smallest Driver: every call succeeds at once.
type instant struct{}

func (instant) Open(context.Context, int) (bench.Conn, error) { return instant{}, nil }
func (instant) Close() error                                  { return nil }
func (instant) Call(time.Time) bench.Outcome                  { return bench.Outcome{Class: bench.OK} }

// An open-loop run: 200 calls scheduled at 2,000 a second, each timed from
// when it was due, every one accounted for.
func ExampleRun() {
	pacer, _ := bench.Constant(2000)
	res, err := bench.Run(context.Background(), bench.Config{Driver: instant{}, Pacer: pacer, Requests: 200, Connections: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	a := res.Accounting
	fmt.Printf("scheduled %d = ok %d + errors %d + in flight %d + queued %d\n", a.Scheduled, a.OK, a.Errors, a.InFlight, a.Queued)
	fmt.Println("latencies recorded:", res.Response.Count)
	// Output:
	// scheduled 200 = ok 200 + errors 0 + in flight 0 + queued 0
	// latencies recorded: 200
}
