package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// bodyServer records the bodies it receives and refuses those starting
// with "bad".
type bodyServer struct {
	mu     sync.Mutex
	bodies map[string]int
}

func (b *bodyServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.bodies[string(data)]++
	b.mu.Unlock()
	if strings.HasPrefix(string(data), "bad") {
		http.Error(w, "no", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func TestStreamClosedLoopSendsEveryBodyOnce(t *testing.T) {
	bs := &bodyServer{bodies: map[string]int{}}
	srv := httptest.NewServer(bs)
	defer srv.Close()
	const workers = 3
	seq := make([]int, workers)
	answers := make([]map[int]int, workers)
	for w := range answers {
		answers[w] = map[int]int{}
	}
	res, err := RunStream(context.Background(), Stream{
		URL:    srv.URL + "/write",
		Expect: http.StatusNoContent,
		Next: func(w int) ([]byte, error) {
			seq[w]++
			if seq[w]%5 == 0 {
				return fmt.Appendf(nil, "bad %d-%d", w, seq[w]), nil
			}
			return fmt.Appendf(nil, "body %d-%d", w, seq[w]), nil
		},
		Answered: func(w, status int) { answers[w][status]++ },
	}, Options{Clients: workers, Requests: 60})
	if err != nil {
		t.Fatal(err)
	}
	tot := res.Total
	if res.Mode != ModeClosed || res.Targets[0].Name != "POST /write" || tot.Requests != 60 || tot.Latency.N != 60 {
		t.Fatalf("result %+v", tot)
	}
	made, ok, refused := 0, 0, 0
	for w := range workers {
		made += seq[w]
		ok += answers[w][http.StatusNoContent]
		refused += answers[w][http.StatusServiceUnavailable]
		if len(answers[w]) > 2 {
			t.Errorf("worker %d answers %v", w, answers[w])
		}
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if made != 60 || len(bs.bodies) != 60 {
		t.Fatalf("%d bodies made, %d distinct received", made, len(bs.bodies))
	}
	for b, n := range bs.bodies {
		if n != 1 {
			t.Errorf("%q received %d times", b, n)
		}
	}
	if int64(ok) != tot.OK || int64(refused) != tot.ByStatus[http.StatusServiceUnavailable] || ok+refused != 60 {
		t.Errorf("answered %d ok, %d refused; result %+v", ok, refused, tot)
	}
}

func TestStreamOpenLoopCountsArrivals(t *testing.T) {
	bs := &bodyServer{bodies: map[string]int{}}
	srv := httptest.NewServer(bs)
	defer srv.Close()
	var mu sync.Mutex
	answered := 0
	n := make([]int, 4)
	res, err := RunStream(context.Background(), Stream{
		URL:      srv.URL,
		Expect:   http.StatusNoContent,
		Next:     func(w int) ([]byte, error) { n[w]++; return fmt.Appendf(nil, "%d-%d", w, n[w]), nil },
		Answered: func(int, int) { mu.Lock(); answered++; mu.Unlock() },
	}, Options{Rate: 200, Duration: 250 * time.Millisecond, MaxInFlight: 4})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Total
	if res.Mode != ModeOpen || s.Requests+s.Dropped != 50 || int(s.Requests) != answered || s.OK != s.Requests {
		t.Fatalf("sent %d + dropped %d (want 50 arrivals), %d answered: %+v", s.Requests, s.Dropped, answered, s)
	}
	bs.mu.Lock()
	defer bs.mu.Unlock()
	if len(bs.bodies) != int(s.Requests) {
		t.Errorf("%d distinct bodies received for %d requests", len(bs.bodies), s.Requests)
	}
}

func TestStreamGeneratorErrorStopsTheRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	defer srv.Close()
	boom := errors.New("boom")
	var mu sync.Mutex
	calls := 0
	_, err := RunStream(context.Background(), Stream{URL: srv.URL, Expect: 204, Next: func(int) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls > 10 {
			return nil, boom
		}
		return []byte("x"), nil
	}}, Options{Clients: 2, Duration: time.Minute})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}
