package engine

import (
	"errors"
	"fmt"
)

// ErrPointRejected marks a store's refusal of a point for what the point
// holds, not for the state of the store: a time outside the window the
// store accepts (too far ahead of the clock, or older than its retention
// behind its newest sample), a reserved or empty name. Retrying cannot
// help; the data must change. The write API answers 400.
var ErrPointRejected = errors.New("point rejected by the store")

// PointError is a store's refusal of one point of a batch given to
// MetricStore.Write. Index is the point's position in the batch. A store
// returning a PointError has written nothing of the batch. It matches
// ErrPointRejected and, through Err, the store's own cause.
type PointError struct {
	Index int
	Err   error
}

func (e *PointError) Error() string { return fmt.Sprintf("point %d: %v", e.Index, e.Err) }

// Unwrap returns ErrPointRejected and the cause.
func (e *PointError) Unwrap() []error { return []error{ErrPointRejected, e.Err} }

// ErrConflict marks samples a store did not write because a different
// value is already stored at their series and time (a store that does not
// overwrite samples). The rest of the batch was written. Retrying the same
// batch cannot help. The write API answers 409.
var ErrConflict = errors.New("a different value is already stored at that time")
