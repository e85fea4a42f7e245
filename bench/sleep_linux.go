package bench

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sleepChunk bounds one nanosleep, so that a stop is noticed promptly.
const sleepChunk = 5 * time.Millisecond

// preciseSleep waits until `until` or until stop is closed. Go's time.Sleep
// wakes up to a millisecond late on Linux (its poller counts in
// milliseconds), which would put a millisecond of schedule lag into every
// open-loop request. A nanosleep with the thread's timer slack lowered to
// 1µs (lowerTimerSlack) wakes within tens of microseconds.
func preciseSleep(until time.Time, stop <-chan struct{}) {
	for {
		d := time.Until(until)
		if d <= 0 {
			return
		}
		select {
		case <-stop:
			return
		default:
		}
		ts := unix.NsecToTimespec(int64(min(d, sleepChunk)))
		if err := unix.Nanosleep(&ts, nil); err != nil && err != syscall.EINTR {
			time.Sleep(min(d, sleepChunk))
		}
	}
}

// selfCPU is the user+system CPU time this process has used.
func selfCPU() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// lowerTimerSlack sets the calling OS thread's timer slack to 1µs (from the
// default 50µs), best effort. The caller has locked its OS thread.
func lowerTimerSlack() { _ = unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0) }
