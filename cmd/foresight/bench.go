package main

import (
	"context"
	"io"
)

// cmdBench runs the benchmarks (placeholder until the M4 runner lands).
func cmdBench(_ context.Context, _ []string, _, _ io.Writer) error {
	return usageError{"bench: no benchmark available in this build"}
}
