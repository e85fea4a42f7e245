// Package proc places mcpbench's processes on CPUs and runs its servers as
// child processes: pinning (affinity plus a matching GOMAXPROCS), the
// generator/server split, and children that print "listening URL", are
// measured (CPU time, RSS) and never outlive the run.
//
//	place := proc.Plan(allowed)            // e.g. generator CPU 0, servers CPU 1
//	_ = proc.PinSelf(place.Generator)
//	srv, err := proc.Start(ctx, proc.Options{Args: []string{"serve", "http", "--cpus", "1"}})
//	defer srv.Stop(5 * time.Second)
//	load(srv.URL()); cpu := srv.CPUTime()
package proc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"unsafe"

	"golang.org/x/sys/unix"
)

// ParseCPUList reads a Linux CPU list such as "0", "1-3" or "0,2-3".
// The result is sorted and has no duplicates.
func ParseCPUList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty CPU list")
	}
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 {
			return nil, fmt.Errorf("CPU list %q: %q is not a CPU number (want e.g. 0, 1-3 or 0,2)", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("CPU list %q: %q is not a range low-high", s, part)
			}
		}
		if b >= maxCPUs {
			return nil, fmt.Errorf("CPU list %q: CPU %d is beyond %d", s, b, maxCPUs-1)
		}
		for c := a; c <= b; c++ {
			seen[c] = true
		}
	}
	cpus := make([]int, 0, len(seen))
	for c := range seen {
		cpus = append(cpus, c)
	}
	sort.Ints(cpus)
	return cpus, nil
}

// FormatCPUList writes cpus in the kernel's list format, runs collapsed:
// [0 1 2 5] is "0-2,5".
func FormatCPUList(cpus []int) string {
	c := append([]int(nil), cpus...)
	sort.Ints(c)
	var b strings.Builder
	for i := 0; i < len(c); {
		j := i
		for j+1 < len(c) && c[j+1] == c[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(c[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(c[j]))
		}
		i = j + 1
	}
	return b.String()
}

// Allowed returns the CPUs this process may run on.
func Allowed() ([]int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil, fmt.Errorf("reading CPU affinity: %w", err)
	}
	var cpus []int
	for c := 0; c < maxCPUs; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// PinSelf restricts every thread of this process to cpus and sets
// GOMAXPROCS to their number. Threads started later inherit the mask.
func PinSelf(cpus []int) error {
	if len(cpus) == 0 {
		return errors.New("pin: no CPUs given")
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	// Affinity is per thread on Linux: set it on each one. Hold this
	// goroutine's thread so that none is created between the listing and
	// the last call without inheriting the mask from one already set.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("pin to CPUs %s: %w", FormatCPUList(cpus), err)
	}
	for pass := 0; pass < 2; pass++ { // a second pass catches threads born during the first
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("pin: %w", err)
		}
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil {
				continue
			}
			if err := unix.SchedSetaffinity(tid, &set); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("pin thread %d to CPUs %s: %w", tid, FormatCPUList(cpus), err)
			}
		}
	}
	runtime.GOMAXPROCS(len(cpus))
	return nil
}

// Placement says where the load generator and the servers run.
type Placement struct {
	Generator, Server []int
	// Shared is true when they could not be given CPUs of their own.
	Shared bool
	// Note says why, when Shared.
	Note string
}

// Plan splits the allowed CPUs between the generator and the servers: the
// servers get the upper half (one CPU on a two-CPU machine), the generator
// the rest. With one CPU both share it, and the placement says so.
func Plan(allowed []int) Placement {
	c := append([]int(nil), allowed...)
	sort.Ints(c)
	if len(c) < 2 {
		return Placement{Generator: c, Server: c, Shared: true,
			Note: "one CPU: generator and servers share it, so latencies include their contention"}
	}
	half := len(c) / 2
	return Placement{Generator: c[:len(c)-half], Server: c[len(c)-half:]}
}

// selfExe is the executable Start runs when Options.Path is empty.
func selfExe() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(p)
}

// maxCPUs is how many CPUs a unix.CPUSet holds.
const maxCPUs = int(unsafe.Sizeof(unix.CPUSet{})) * 8
