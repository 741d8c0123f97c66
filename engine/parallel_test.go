package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

func TestForEach(t *testing.T) {
	var calls [100]atomic.Int32
	errs := ForEach(context.Background(), len(calls), 3, func(i int) error { calls[i].Add(1); return nil })
	if len(errs) != len(calls) {
		t.Fatalf("%d results for %d items", len(errs), len(calls))
	}
	for i := range calls {
		if calls[i].Load() != 1 || errs[i] != nil {
			t.Fatalf("index %d called %d times, error %v", i, calls[i].Load(), errs[i])
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	errs = ForEach(ctx, 50, 1, func(i int) error {
		ran.Add(1)
		if i == 4 {
			cancel()
		}
		return nil
	})
	started := 0
	for started < len(errs) && errs[started] == nil {
		started++
	}
	if started < 5 || started >= 50 || int(ran.Load()) != started {
		t.Fatalf("after cancel: started %d, ran %d", started, ran.Load())
	}
	for i := started; i < len(errs); i++ {
		if !errors.Is(errs[i], context.Canceled) {
			t.Fatalf("unstarted index %d: %v, want context.Canceled", i, errs[i])
		}
	}
	if errs := ForEach(context.Background(), 0, 4, func(int) error { t.Fatal("called for n=0"); return nil }); errs != nil {
		t.Fatalf("n=0: %v", errs)
	}
}

// TestForEachRecoversPanics: a panicking item fails alone with a
// *PanicError carrying the index, the value and the stack; its neighbours
// and fn's own errors are reported as usual, and the process survives.
func TestForEachRecoversPanics(t *testing.T) {
	mine := errors.New("item 7 failed")
	var ran atomic.Int32
	errs := ForEach(context.Background(), 20, 4, func(i int) error {
		ran.Add(1)
		switch i {
		case 3:
			var s []int
			_ = s[i] // index out of range
		case 5:
			panic("model bug")
		case 7:
			return mine
		}
		return nil
	})
	if ran.Load() != 20 || len(errs) != 20 {
		t.Fatalf("ran %d, %d results", ran.Load(), len(errs))
	}
	for i, err := range errs {
		switch i {
		case 3:
			var pe *PanicError
			var re runtime.Error
			if !errors.As(err, &pe) || pe.Index != 3 || !errors.As(err, &re) || !strings.Contains(err.Error(), "index out of range") {
				t.Fatalf("item 3: %v, want a *PanicError wrapping the runtime error", err)
			}
			if !strings.Contains(string(pe.Stack), "TestForEachRecoversPanics") {
				t.Fatalf("item 3: stack does not show the panicking function:\n%s", pe.Stack)
			}
		case 5:
			var pe *PanicError
			if !errors.As(err, &pe) || pe.Index != 5 || pe.Value != "model bug" || err.Error() != "internal error: item 5 panicked: model bug" {
				t.Fatalf("item 5: %v (%#v)", err, pe)
			}
		case 7:
			if err != mine {
				t.Fatalf("item 7: %v, want fn's own error", err)
			}
		default:
			if err != nil {
				t.Fatalf("item %d: %v", i, err)
			}
		}
	}
	// Every item panicking still returns (each worker survives its panics).
	errs = ForEach(context.Background(), 8, 2, func(i int) error { panic(fmt.Sprint("p", i)) })
	for i, err := range errs {
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Value != fmt.Sprint("p", i) {
			t.Fatalf("item %d: %v", i, err)
		}
	}
}
