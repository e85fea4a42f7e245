// Package model holds the Go types the GraphQL schema binds to.
package model

// Tools is the nesting object of the schema: it has no data of its own;
// every field has a resolver.
type Tools struct{}
