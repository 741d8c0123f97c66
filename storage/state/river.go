package state

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// Names of the webhook delivery job.
const (
	// DeliveryKind is the River job kind of a webhook delivery.
	DeliveryKind = "foresight.webhook_delivery"
	// QueueWebhooks is the River queue webhook deliveries run in.
	QueueWebhooks = "webhooks"
	// DeliveryMaxAttempts is how often a delivery is tried before it is
	// discarded (becomes a dead letter). With River's default backoff
	// (attempt⁴ seconds, with jitter) 25 attempts span about three weeks; a
	// worker that enforces a shorter maximum age should cancel the job with
	// river.JobCancel when the age is exceeded.
	DeliveryMaxAttempts = 25
)

// DeliveryArgs are the arguments of a webhook delivery job: which event of
// which ticket version goes to which target. The worker (in the notify
// package) loads the ticket and renders the target's format.
type DeliveryArgs struct {
	// TicketID is the ticket.
	TicketID int64 `json:"ticket_id"`
	// Version is the ticket's version the event is about.
	Version int64 `json:"version"`
	// Event is the event type ("ticket.opened", "ticket.updated", …).
	Event string `json:"event"`
	// Target names the configured webhook target.
	Target string `json:"target" river:"unique"`
	// IdempotencyKey identifies the event for the receiver (default
	// "<ticket id>:<version>"). Together with Target it makes the job
	// unique, so a retried transaction does not enqueue it twice.
	IdempotencyKey string `json:"idempotency_key" river:"unique"`
	// Payload is the event as it was when the change committed (the
	// notification describes that version, whatever happens later).
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Kind implements river.JobArgs.
func (DeliveryArgs) Kind() string { return DeliveryKind }

// InsertOpts implements river.JobArgsWithInsertOpts: queue "webhooks",
// DeliveryMaxAttempts attempts, unique by (Target, IdempotencyKey) among
// jobs that are not yet discarded or cancelled.
func (DeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: DeliveryMaxAttempts,
		Queue:       QueueWebhooks,
		UniqueOpts:  river.UniqueOpts{ByArgs: true},
	}
}

// riverClient is the part of River's client the store uses, without the
// type parameter: River's Client is generic over its driver's transaction
// type (pgx.Tx for riverpgxv5, *sql.Tx for riversqlite), and riverClientOf
// adapts either instantiation, taking the driver transaction out of a *Tx.
type riverClient interface {
	insertTx(ctx context.Context, tx *Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	start(ctx context.Context) error
	stop(ctx context.Context) error
	subscribe(kinds ...river.EventKind) (<-chan *river.Event, func())
	jobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	jobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
	jobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

type riverClientOf[TTx any] struct {
	c    *river.Client[TTx]
	txOf func(*Tx) TTx
}

func (r riverClientOf[TTx]) insertTx(ctx context.Context, tx *Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	return r.c.InsertTx(ctx, r.txOf(tx), args, opts)
}
func (r riverClientOf[TTx]) start(ctx context.Context) error { return r.c.Start(ctx) }
func (r riverClientOf[TTx]) stop(ctx context.Context) error  { return r.c.Stop(ctx) }
func (r riverClientOf[TTx]) subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return r.c.Subscribe(kinds...)
}
func (r riverClientOf[TTx]) jobGet(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return r.c.JobGet(ctx, id)
}
func (r riverClientOf[TTx]) jobList(ctx context.Context, p *river.JobListParams) (*river.JobListResult, error) {
	return r.c.JobList(ctx, p)
}
func (r riverClientOf[TTx]) jobRetry(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return r.c.JobRetry(ctx, id)
}

// newRiverClient makes a River client on the store's database with the
// driver that fits it. A nil config makes an insert-only client.
func (s *Store) newRiverClient(cfg *river.Config) (riverClient, error) {
	if cfg == nil {
		cfg = &river.Config{}
	}
	if cfg.Logger == nil {
		cfg.Logger = s.log
	}
	if s.pool != nil {
		cfg.Schema = s.cfg.Schema
		c, err := river.NewClient(riverpgxv5.New(s.pool), cfg)
		if err != nil {
			return nil, fmt.Errorf("state: river client: %w", err)
		}
		return riverClientOf[pgx.Tx]{c: c, txOf: func(tx *Tx) pgx.Tx { return tx.pgxTx }}, nil
	}
	c, err := river.NewClient(riversqlite.New(s.sqlDB), cfg)
	if err != nil {
		return nil, fmt.Errorf("state: river client: %w", err)
	}
	return riverClientOf[*sql.Tx]{c: c, txOf: func(tx *Tx) *sql.Tx { return tx.sqlTx }}, nil
}

// Enqueue inserts a River job in the transaction: it becomes visible to
// workers only if the transaction commits. opts may be nil; its non-zero
// fields override the args' own InsertOpts field by field.
func (tx *Tx) Enqueue(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	res, err := tx.s.river.insertTx(ctx, tx, args, opts)
	if err != nil {
		return nil, fmt.Errorf("state: enqueue %s: %w", args.Kind(), err)
	}
	return res, nil
}

// EnqueueDelivery inserts a webhook delivery job in the transaction — the
// durable outbox: the ticket change and its notification commit together or
// not at all. An empty IdempotencyKey becomes "<ticket id>:<version>". If a
// job with the same target and key exists (and is not discarded or
// cancelled), nothing is inserted and the result has UniqueSkippedAsDuplicate
// set.
func (tx *Tx) EnqueueDelivery(ctx context.Context, args DeliveryArgs) (*rivertype.JobInsertResult, error) {
	return tx.EnqueueDeliveryOpts(ctx, args, nil)
}

// EnqueueDeliveryOpts is EnqueueDelivery with insert options overriding the
// defaults of DeliveryArgs.InsertOpts (e.g. ScheduledAt, or fewer attempts).
func (tx *Tx) EnqueueDeliveryOpts(ctx context.Context, args DeliveryArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if args.IdempotencyKey == "" {
		args.IdempotencyKey = strconv.FormatInt(args.TicketID, 10) + ":" + strconv.FormatInt(args.Version, 10)
	}
	if args.Target == "" {
		return nil, errors.New("state: delivery without a target")
	}
	return tx.Enqueue(ctx, args, opts)
}

// Job returns a River job by id; ErrNotFound if there is none.
func (s *Store) Job(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	j, err := s.river.jobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, fmt.Errorf("state: job %d: %w", id, ErrNotFound)
	}
	return j, err
}

// DeadLetter is a webhook delivery that River discarded after its last
// attempt (or that a worker cancelled).
type DeadLetter struct {
	// JobID is the River job's id (for RetryDeadLetter).
	JobID int64
	// State is "discarded" or "cancelled".
	State rivertype.JobState
	// Delivery is the job's arguments.
	Delivery DeliveryArgs
	// Attempts is how often it was tried.
	Attempts int
	// MaxAttempts is how often it could have been tried.
	MaxAttempts int
	// Errors are the attempts' errors, oldest first.
	Errors []string
	// CreatedAt is when it was enqueued.
	CreatedAt time.Time
	// FinalizedAt is when it was given up.
	FinalizedAt time.Time
}

// DeadLetters lists the discarded and cancelled jobs of the webhooks queue,
// most recently given up first, at most limit (0: 100).
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	p := river.NewJobListParams().
		Queues(QueueWebhooks).
		States(rivertype.JobStateDiscarded, rivertype.JobStateCancelled).
		OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).
		First(min(limit, 10000))
	res, err := s.river.jobList(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("state: dead letters: %w", err)
	}
	out := make([]DeadLetter, 0, len(res.Jobs))
	for _, j := range res.Jobs {
		d := DeadLetter{JobID: j.ID, State: j.State, Attempts: j.Attempt, MaxAttempts: j.MaxAttempts, CreatedAt: j.CreatedAt}
		if j.FinalizedAt != nil {
			d.FinalizedAt = *j.FinalizedAt
		}
		for _, e := range j.Errors {
			d.Errors = append(d.Errors, e.Error)
		}
		if err := json.Unmarshal(j.EncodedArgs, &d.Delivery); err != nil {
			return nil, fmt.Errorf("state: dead letter %d: %w", j.ID, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// ErrNotDeadLetter is returned by RetryDeadLetter for a job that exists but
// is not a discarded or cancelled webhook delivery.
var ErrNotDeadLetter = errors.New("state: job is not a dead letter")

// RetryDeadLetter makes a dead-letter delivery available again, to be worked
// as soon as a Runner picks it up (its attempt count is kept, River gives it
// one more attempt).
func (s *Store) RetryDeadLetter(ctx context.Context, jobID int64) error {
	j, err := s.Job(ctx, jobID)
	if err != nil {
		return err
	}
	if j.Queue != QueueWebhooks || (j.State != rivertype.JobStateDiscarded && j.State != rivertype.JobStateCancelled) {
		return fmt.Errorf("state: job %d (%s, %s): %w", jobID, j.Queue, j.State, ErrNotDeadLetter)
	}
	if _, err := s.river.jobRetry(ctx, jobID); err != nil {
		return fmt.Errorf("state: retry job %d: %w", jobID, err)
	}
	return nil
}

// RunnerConfig configures a Runner: River's client with workers and queues.
type RunnerConfig struct {
	// Workers holds the workers, registered with river.AddWorker before
	// NewRunner. Required.
	Workers *river.Workers
	// Queues maps queue names to their settings. Default: "default" with 5
	// workers and "webhooks" with 10.
	Queues map[string]river.QueueConfig
	// RetryPolicy decides when a failed job is tried again. Default: River's
	// exponential backoff with jitter (attempt⁴ seconds).
	RetryPolicy river.ClientRetryPolicy
	// FetchPollInterval is how often idle queues look for new jobs. On
	// SQLite (no LISTEN/NOTIFY) it bounds the latency of a new job. Default:
	// River's (1 s).
	FetchPollInterval time.Duration
	// JobTimeout bounds a job's run. Default: half of RescueStuckJobsAfter
	// when that is set, else River's (1 min). It must be shorter than
	// RescueStuckJobsAfter.
	JobTimeout time.Duration
	// RescueStuckJobsAfter is how long a job may stay running before
	// River's rescuer (on the elected leader) considers it stuck — its
	// process died mid-job — and schedules it again (or discards it after
	// its last attempt). Default: River's (1 h). A short value means a
	// delivery interrupted by a crash is retried soon after the restart.
	RescueStuckJobsAfter time.Duration
	// PeriodicJobs are jobs River enqueues on a schedule (on the elected
	// leader only, so once across replicas).
	PeriodicJobs []*river.PeriodicJob
	// ID names this client among replicas (default: host name and time).
	ID string
	// Configure, if set, may change the River configuration further before
	// the client is made (error handlers, middleware, hooks, …).
	Configure func(*river.Config)
}

// Runner works River jobs on the store's database. It wraps River's client
// so that callers need not know which driver (and transaction type) is in
// use. Make one with NewRunner, then Start it; Store.Close stops it too.
type Runner struct {
	s *Store
	c riverClient
}

// NewRunner makes a Runner working cfg.Workers. Several runners (in one
// process or in several replicas) share the work; each job is worked by one.
func (s *Store) NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Workers == nil {
		return nil, errors.New("state: RunnerConfig.Workers is required")
	}
	queues := cfg.Queues
	if len(queues) == 0 {
		queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: 5},
			QueueWebhooks:      {MaxWorkers: 10},
		}
	}
	if cfg.RescueStuckJobsAfter < 0 || cfg.JobTimeout < 0 {
		return nil, errors.New("state: RunnerConfig.JobTimeout and RescueStuckJobsAfter must not be negative")
	}
	if cfg.RescueStuckJobsAfter > 0 {
		if cfg.JobTimeout == 0 {
			cfg.JobTimeout = cfg.RescueStuckJobsAfter / 2
		}
		if cfg.JobTimeout >= cfg.RescueStuckJobsAfter {
			return nil, fmt.Errorf("state: RunnerConfig.JobTimeout (%s) must be shorter than RescueStuckJobsAfter (%s)", cfg.JobTimeout, cfg.RescueStuckJobsAfter)
		}
	}
	rc := &river.Config{
		Workers:              cfg.Workers,
		Queues:               queues,
		RetryPolicy:          cfg.RetryPolicy,
		FetchPollInterval:    cfg.FetchPollInterval,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueStuckJobsAfter,
		PeriodicJobs:         cfg.PeriodicJobs,
		ID:                   cfg.ID,
	}
	if cfg.FetchPollInterval > 0 && cfg.FetchPollInterval < river.FetchCooldownDefault {
		rc.FetchCooldown = cfg.FetchPollInterval
	}
	if cfg.Configure != nil {
		cfg.Configure(rc)
	}
	c, err := s.newRiverClient(rc)
	if err != nil {
		return nil, err
	}
	return &Runner{s: s, c: c}, nil
}

// Start starts working jobs. ctx should live as long as the Runner: when it
// is cancelled, jobs in progress are cancelled too; use Stop for a graceful
// stop.
func (r *Runner) Start(ctx context.Context) error {
	r.s.mu.Lock()
	if r.s.closed {
		r.s.mu.Unlock()
		return errors.New("state: store is closed")
	}
	r.s.runner = append(r.s.runner, r)
	r.s.mu.Unlock()
	if err := r.c.start(ctx); err != nil {
		r.forget()
		return fmt.Errorf("state: start runner: %w", err)
	}
	return nil
}

// Stop stops fetching jobs and waits for those in progress to finish, or for
// ctx to be done.
func (r *Runner) Stop(ctx context.Context) error {
	r.forget()
	if err := r.c.stop(ctx); err != nil {
		return fmt.Errorf("state: stop runner: %w", err)
	}
	return nil
}

func (r *Runner) forget() {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	for i, x := range r.s.runner {
		if x == r {
			r.s.runner = append(r.s.runner[:i], r.s.runner[i+1:]...)
			break
		}
	}
}

// Subscribe returns River's events of the given kinds (e.g.
// river.EventKindJobCompleted, river.EventKindJobFailed) for jobs this
// Runner works, and a function to unsubscribe. Subscribe before Start.
func (r *Runner) Subscribe(kinds ...river.EventKind) (<-chan *river.Event, func()) {
	return r.c.subscribe(kinds...)
}
