package engine

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestForEach(t *testing.T) {
	var calls [100]atomic.Int32
	if got := ForEach(context.Background(), len(calls), 3, func(i int) { calls[i].Add(1) }); got != len(calls) {
		t.Fatalf("started %d", got)
	}
	for i := range calls {
		if calls[i].Load() != 1 {
			t.Fatalf("index %d called %d times", i, calls[i].Load())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	started := ForEach(ctx, 50, 1, func(i int) {
		ran.Add(1)
		if i == 4 {
			cancel()
		}
	})
	if started < 5 || started >= 50 || int(ran.Load()) != started {
		t.Fatalf("after cancel: started %d, ran %d", started, ran.Load())
	}
	if ForEach(context.Background(), 0, 4, func(int) { t.Fatal("called for n=0") }) != 0 {
		t.Fatal("n=0")
	}
}
