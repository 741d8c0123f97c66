package engine

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// PanicError is the error ForEach reports for an item whose call panicked:
// the panic is recovered in the worker, so one faulty item (a bug in a
// model, say) fails that item instead of the whole process. It is a server
// fault, never the caller's input: handlers answer it with 500 and log
// Stack.
type PanicError struct {
	// Index is the item whose call panicked.
	Index int
	// Value is what was passed to panic.
	Value any
	// Stack is the panicking goroutine's stack trace.
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("internal error: item %d panicked: %v", e.Index, e.Value)
}

// Unwrap returns the panic value when it is an error (a runtime error, for
// instance), so errors.Is and errors.As see it.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// ForEach calls fn(i) for i in [0, n) on at most workers goroutines
// (workers <= 0 means GOMAXPROCS) and returns when every started call has
// finished. It stops handing out indices once ctx is done.
//
// The result has one entry per index (nil when n is 0): nil when fn(i)
// returned nil; fn's error; a *PanicError when fn(i) panicked (the panic
// does not escape the worker, so it cannot crash the process); or ctx's
// error for an index that was never handed out because ctx was done.
func ForEach(ctx context.Context, n, workers int, fn func(i int) error) []error {
	if n <= 0 {
		return nil
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs[i] = call(i, fn)
			}
		}()
	}
	started := 0
feed:
	for ; started < n; started++ {
		select {
		case next <- started:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for i := started; i < n; i++ {
		errs[i] = ctx.Err()
	}
	return errs
}

// call runs fn(i), turning a panic into a *PanicError.
func call(i int, fn func(int) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Index: i, Value: v, Stack: debug.Stack()}
		}
	}()
	return fn(i)
}
