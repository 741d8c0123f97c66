package state_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/seed-f1b503aa/foresight/storage/state"
)

// recorder is a delivery worker that records what it delivers and fails,
// on purpose, for the targets marked down.
type recorder struct {
	river.WorkerDefaults[state.DeliveryArgs]

	mu       sync.Mutex
	got      []state.DeliveryArgs
	attempts map[string]int // by idempotency key
	down     map[string]bool
}

func newRecorder() *recorder {
	return &recorder{attempts: map[string]int{}, down: map[string]bool{}}
}

// Work implements river.Worker.
func (w *recorder) Work(ctx context.Context, job *river.Job[state.DeliveryArgs]) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.attempts[job.Args.IdempotencyKey]++
	if w.down[job.Args.Target] {
		return fmt.Errorf("target %s is down", job.Args.Target)
	}
	w.got = append(w.got, job.Args)
	return nil
}

func (w *recorder) setDown(target string, down bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.down[target] = down
}

// delivered counts deliveries of an idempotency key.
func (w *recorder) delivered(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, a := range w.got {
		if a.IdempotencyKey == key {
			n++
		}
	}
	return n
}

func (w *recorder) tries(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.attempts[key]
}

// retryNow retries a failed job at once (River's default waits attempt⁴ s).
type retryNow struct{}

func (retryNow) NextRetry(*rivertype.JobRow) time.Time { return time.Now() }

// startRunner starts a Runner working w on s, stopped when the test ends.
func startRunner(t *testing.T, s *state.Store, w *recorder) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	r, err := s.NewRunner(state.RunnerConfig{
		Workers:           workers,
		RetryPolicy:       retryNow{},
		FetchPollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("stop runner: %v", err)
		}
	})
}

// openTicket inserts a ticket, its audit entry and its delivery in one
// transaction, the way the ticket engine does, and returns after's error.
// An empty key means the default idempotency key.
func openTicket(ctx context.Context, s *state.Store, fp, target, key string, after func(rec state.TicketRecord) error) (state.TicketRecord, error) {
	rec := ticket(fp, "disk_full", "major", `{"host":"db-01"}`, t0)
	err := s.InTx(ctx, func(tx *state.Tx) error {
		if err := tx.InsertTicket(ctx, &rec); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &state.AuditRecord{TicketID: rec.ID, Version: rec.Version, Actor: "engine", Action: "open", To: rec.State}); err != nil {
			return err
		}
		if _, err := tx.EnqueueDelivery(ctx, state.DeliveryArgs{TicketID: rec.ID, Version: rec.Version, Event: "ticket.opened", Target: target, IdempotencyKey: key}); err != nil {
			return err
		}
		if after != nil {
			return after(rec)
		}
		return nil
	})
	return rec, err
}

func TestDeliveryArgs(t *testing.T) {
	kindRE := `^[\w][\w\-\[\]<>/.·:+]+$`
	if !regexp.MustCompile(kindRE).MatchString(state.DeliveryKind) {
		t.Errorf("kind %q does not match River's %s", state.DeliveryKind, kindRE)
	}
	o := state.DeliveryArgs{}.InsertOpts()
	if o.Queue != state.QueueWebhooks || o.MaxAttempts != state.DeliveryMaxAttempts || !o.UniqueOpts.ByArgs {
		t.Errorf("InsertOpts = %+v", o)
	}
}

func TestOutbox(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		w := newRecorder()
		startRunner(t, s, w)

		// (a) The transaction fails after the enqueue: no ticket, no job.
		boom := errors.New("crash before commit")
		var rolledBack state.TicketRecord
		_, err := openTicket(ctx, s, "disk|rolled-back", "chat", "rolled-back", func(rec state.TicketRecord) error {
			rolledBack = rec
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want boom", err)
		}
		if _, err := s.GetTicket(ctx, rolledBack.ID); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("rolled-back ticket readable: %v", err)
		}

		// (b) A committed change is delivered, exactly once.
		rec, err := openTicket(ctx, s, "disk|committed", "chat", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("%d:%d", rec.ID, rec.Version)
		waitFor(t, 20*time.Second, "the committed delivery", func() bool { return w.delivered(key) == 1 })

		// The same event enqueued again (a retried transaction) is not
		// enqueued twice.
		err = s.InTx(ctx, func(tx *state.Tx) error {
			res, err := tx.EnqueueDelivery(ctx, state.DeliveryArgs{TicketID: rec.ID, Version: rec.Version, Event: "ticket.opened", Target: "chat"})
			if err != nil {
				return err
			}
			if !res.UniqueSkippedAsDuplicate {
				t.Errorf("second enqueue of %s was not skipped as a duplicate", key)
			}
			// Another target for the same event is a separate delivery.
			res, err = tx.EnqueueDelivery(ctx, state.DeliveryArgs{TicketID: rec.ID, Version: rec.Version, Event: "ticket.opened", Target: "sms"})
			if err != nil {
				return err
			}
			if res.UniqueSkippedAsDuplicate {
				t.Error("delivery to a second target was skipped")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "the second target's delivery", func() bool { return w.delivered(key) == 2 })

		// Let the workers poll a few more times: the rolled-back delivery
		// never shows up and nothing is delivered twice.
		time.Sleep(300 * time.Millisecond)
		if n := w.tries("rolled-back"); n != 0 {
			t.Errorf("rolled-back delivery worked %d times", n)
		}
		w.mu.Lock()
		got := fmt.Sprint(w.got)
		n := len(w.got)
		w.mu.Unlock()
		if n != 2 {
			t.Errorf("deliveries = %s, want 2", got)
		}
	})
}

func TestDeadLetters(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		s := open(t, b.config(t))
		w := newRecorder()
		w.setDown("pager", true)
		startRunner(t, s, w)

		rec := ticket("disk|dead", "disk_full", "critical", `{"host":"db-09"}`, t0)
		var jobID int64
		err := s.InTx(ctx, func(tx *state.Tx) error {
			if err := tx.InsertTicket(ctx, &rec); err != nil {
				return err
			}
			res, err := tx.EnqueueDeliveryOpts(ctx, state.DeliveryArgs{TicketID: rec.ID, Version: 1, Event: "ticket.opened", Target: "pager"},
				&river.InsertOpts{MaxAttempts: 3})
			if err != nil {
				return err
			}
			jobID = res.Job.ID
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("%d:1", rec.ID)

		// (c) Each failure is retried; after the last attempt the job is a
		// dead letter.
		var dead []state.DeadLetter
		waitFor(t, 30*time.Second, "the dead letter", func() bool {
			dead, err = s.DeadLetters(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			return len(dead) == 1
		})
		d := dead[0]
		if d.JobID != jobID || d.State != rivertype.JobStateDiscarded || d.Attempts != 3 || d.MaxAttempts != 3 ||
			len(d.Errors) != 3 || d.Delivery.IdempotencyKey != key || d.Delivery.Target != "pager" || d.FinalizedAt.IsZero() {
			t.Errorf("dead letter = %+v", d)
		}
		if n := w.tries(key); n != 3 {
			t.Errorf("worker tried %d times, want 3", n)
		}
		if w.delivered(key) != 0 {
			t.Error("a failing delivery was recorded as delivered")
		}

		// (d) Retrying the dead letter, with the target back, delivers it.
		w.setDown("pager", false)
		if err := s.RetryDeadLetter(ctx, jobID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "the retried delivery", func() bool { return w.delivered(key) == 1 })
		waitFor(t, 10*time.Second, "the job to complete", func() bool {
			j, err := s.Job(ctx, jobID)
			return err == nil && j.State == rivertype.JobStateCompleted
		})
		if dead, err := s.DeadLetters(ctx, 10); err != nil || len(dead) != 0 {
			t.Errorf("dead letters after retry = %+v, %v", dead, err)
		}
		// A job that is not a dead letter cannot be retried that way.
		if err := s.RetryDeadLetter(ctx, jobID); !errors.Is(err, state.ErrNotDeadLetter) {
			t.Errorf("RetryDeadLetter(completed) = %v, want ErrNotDeadLetter", err)
		}
		if err := s.RetryDeadLetter(ctx, 987654); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("RetryDeadLetter(missing) = %v, want ErrNotFound", err)
		}
	})
}
