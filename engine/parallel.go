package engine

import (
	"context"
	"runtime"
	"sync"
)

// ForEach calls fn(i) for i in [0, n) on at most workers goroutines
// (workers <= 0 means GOMAXPROCS) and returns when every started call has
// finished. It stops handing out indices once ctx is done and returns how
// many it handed out: indices from that number on were never passed to fn.
func ForEach(ctx context.Context, n, workers int, fn func(i int)) (started int) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
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
	return started
}
