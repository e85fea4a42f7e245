//go:build race

package fast

// raceDetector is true when the tests run with -race, whose instrumentation
// changes what allocates.
const raceDetector = true
