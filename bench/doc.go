// Package bench is mcpbench's load generator: a Pacer says when each request
// is due, a Driver says how to call one stack, each worker records into its
// own HdrHistograms (merged by a collector each second), and Run ties them
// together, measuring every request from its intended start so that stalls
// show in the tail.
package bench
