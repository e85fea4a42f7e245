package bench

import "golang.org/x/sys/unix"

// ReadClock asks the kernel (adjtimex, read only) for the clock's state;
// nil where it cannot.
func ReadClock() *ClockInfo {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return nil
	}
	return &ClockInfo{Synchronized: state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0, EstErrorUs: tx.Esterror, MaxErrorUs: tx.Maxerror}
}
