package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/seed-f1b503aa/foresight/notify"
	"github.com/seed-f1b503aa/foresight/storage/state"
)

// DeliveryWorker is the River worker that sends one queued notification.
// River retries it on error (NextRetry: exponential backoff with full
// jitter, honouring Retry-After); a permanent failure (a 4xx, a
// misconfigured target, a chat platform's non-retryable error code) or an
// expired delivery cancels the job, which then shows among the dead letters.
type DeliveryWorker struct {
	river.WorkerDefaults[state.DeliveryArgs]
	Targets *notify.Router
	Client  *http.Client
	// MaxAge gives up on a delivery this long after it was queued (0: never).
	MaxAge time.Duration
	// BaseBackoff and MaxBackoff bound the retry delay (defaults 5 s, 1 h).
	BaseBackoff, MaxBackoff time.Duration

	mu  sync.Mutex
	rnd *rand.Rand
	// retryAfter remembers the receivers' Retry-After per job for NextRetry.
	retryAfter map[int64]time.Duration
}

// Work delivers the event in the job's payload to its target.
func (w *DeliveryWorker) Work(ctx context.Context, job *river.Job[state.DeliveryArgs]) error {
	target, ok := w.Targets.Target(job.Args.Target)
	if !ok {
		return river.JobCancel(fmt.Errorf("webhook target %q is not configured", job.Args.Target))
	}
	now := time.Now()
	if notify.Expired(job.CreatedAt, now, w.MaxAge) {
		return river.JobCancel(fmt.Errorf("delivery older than the maximum age %s", w.MaxAge))
	}
	var ev notify.Event
	if err := json.Unmarshal(job.Args.Payload, &ev); err != nil {
		return river.JobCancel(fmt.Errorf("delivery payload: %w", err))
	}
	// Encoded on every attempt: signatures carry the send time.
	req, err := notify.Encode(target.Format, ev, target, now)
	if err != nil {
		return river.JobCancel(err)
	}
	res := notify.Deliver(ctx, w.Client, req)
	if err := res.Error(); err != nil {
		if notify.IsPermanent(err) {
			return river.JobCancel(err)
		}
		w.mu.Lock()
		if w.retryAfter == nil {
			w.retryAfter = map[int64]time.Duration{}
		}
		w.retryAfter[job.ID] = res.RetryAfter
		w.mu.Unlock()
		return err
	}
	return nil
}

// NextRetry spaces attempts with exponential backoff and full jitter,
// never sooner than the receiver's Retry-After.
func (w *DeliveryWorker) NextRetry(job *river.Job[state.DeliveryArgs]) time.Time {
	base, maxB := w.BaseBackoff, w.MaxBackoff
	if base <= 0 {
		base = 5 * time.Second
	}
	if maxB <= 0 {
		maxB = time.Hour
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rnd == nil {
		w.rnd = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	}
	ra := w.retryAfter[job.ID]
	delete(w.retryAfter, job.ID)
	return time.Now().Add(notify.RetryDelayFor(ra, job.Attempt, base, maxB, w.rnd))
}
