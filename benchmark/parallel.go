package benchmark

import (
	"context"
	"sync"
)

// forEach calls fn(i) for i in [0, n) on at most workers goroutines and
// returns when all started calls are done. It stops handing out indices
// once ctx is done and then returns ctx's error.
func forEach(ctx context.Context, n, workers int, fn func(i int)) error {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < min(max(workers, 1), n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return ctx.Err()
}
