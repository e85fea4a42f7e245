package main

import (
	"fmt"
	"os"
	"runtime"
	"sort"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	runtime.LockOSThread()
	unix.Prctl(unix.PR_SET_TIMERSLACK, 1000, 0, 0, 0)
	ep, _ := unix.EpollCreate1(0)
	ev := make([]unix.EpollEvent, 8)
	mode := os.Args[1]
	var lat []float64
	start := time.Now()
	for i := 1; i <= 1000; i++ {
		due := time.Duration(i) * 5 * time.Millisecond
		for {
			d := due - time.Since(start)
			if d <= 0 {
				break
			}
			ts := unix.NsecToTimespec(int64(d))
			switch mode {
			case "nanosleep":
				unix.Nanosleep(&ts, nil)
			case "pwait2raw":
				unix.RawSyscall6(unix.SYS_EPOLL_PWAIT2, uintptr(ep), uintptr(unsafe.Pointer(&ev[0])), 8, uintptr(unsafe.Pointer(&ts)), 0, 0)
			case "pwait2":
				unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(ep), uintptr(unsafe.Pointer(&ev[0])), 8, uintptr(unsafe.Pointer(&ts)), 0, 0)
			case "nanosleepraw":
				unix.RawSyscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&ts)), 0, 0)
			}
		}
		lat = append(lat, float64(time.Since(start)-due)/1e3)
	}
	sort.Float64s(lat)
	fmt.Printf("%-12s p50 %.1fus p90 %.1fus p99 %.1fus\n", mode, lat[500], lat[900], lat[990])
}
