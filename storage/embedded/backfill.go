package embedded

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/seed-f1b503aa/foresight/engine"
)

// Bulk loading.
//
// Write sends every sample through the WAL and the in-memory head. That is
// right for live data, but a large history written through it is slow to
// settle: the head is cut into one block per MinBlockDuration (2h) of
// history, out-of-order samples go through a second log and are cut the
// same way, and compaction then has to merge thousands of small overlapping
// blocks. Measured on a 2-core machine: 50 series × 120 days of minutes
// (8.6M points), written series after series, took 17 s of Write calls and
// then 10.5 min of background compaction; a Loader took 7.5 s in all and left
// nothing to compact; 200 series (34.6M points) took 36 s.
//
// A Loader does what Prometheus' own backfilling tool (promtool tsdb
// create-blocks-from, built on tsdb.BlockWriter) does: it collects samples in
// private in-memory heads, one per time window of the size of the largest
// compaction range, and on Commit writes each window as one finished,
// compressed, indexed block straight into the store's directory, then makes
// the store load the new blocks. There is no WAL write and nothing is left to
// compact. (It drives tsdb.Head and the compactor directly rather than
// through BlockWriter because the blocks need the out-of-order flag, see
// below, and BlockWriter cannot set it.)
//
// Order: a private head only accepts each series' samples in time order. Add
// sorts every batch, so order within a batch never matters; a sample older
// than what its series already holds (disorder across batches) is set aside
// and later sorted into a further set of heads. Input ordered per series (a
// file sorted by series, or by time) never needs that.
//
// Memory: when the heads hold loaderMemSamples samples they are written out
// as partial blocks in the Loader's temporary directory; Commit merges all
// parts of a window into its one final block with TSDB's compactor (which
// also drops repeated samples). Nothing is visible before Commit.
//
// Safety with respect to the live head: loaded blocks are flagged "from
// out-of-order", so they never move the point from which TSDB replays its
// WAL on restart; samples at or after the start of the live head's
// unpersisted in-order data are sent through the WAL like Write rather than
// put in a block; and the head's minimum valid time is raised above the
// loaded blocks, so later in-order writes can never land below a block
// (older writes take the out-of-order path, which is always replayed).

// Memory bounds of a Loader (variables so tests can shrink them).
var (
	// loaderSpillSamples is how many set-aside samples (out of order across
	// batches; 24 bytes each) a Loader buffers before sorting them into a
	// new set of heads.
	loaderSpillSamples = 2 << 20
	// loaderMemSamples is how many samples the heads hold (about 13 bytes
	// each) before they are written out as partial blocks.
	loaderMemSamples = 8 << 20
)

// Loader bulk-loads history into a Store; see Store.NewLoader. It is safe
// for concurrent use, but calls are serialised.
type Loader struct {
	s      *Store
	window int64  // block span, ms
	dir    string // temporary directory: private heads and partial blocks

	mu       sync.Mutex
	closed   bool
	cache    *seriesCache
	gens     []map[int64]*loadHead // generation → window start → head
	inHeads  int                   // samples appended to the heads
	parts    map[int64][]string    // window start → partial block dirs
	seq      int                   // names head directories
	samples  []loadSample          // scratch for Add
	pending  []loadSample          // set aside: older than generation 0 holds
	stats    LoadStats
	compactr *tsdb.LeveledCompactor
}

// LoadStats counts what a Loader has done.
type LoadStats struct {
	// Samples is the number of samples accepted by Add.
	Samples int
	// Rejected is the number of samples Add refused (see Store.Write for
	// the reasons).
	Rejected int
	// Parts is the number of partial blocks written to bound memory.
	Parts int
	// Blocks is the number of blocks Commit added to the store.
	Blocks int
	// ViaWAL is the number of samples Commit sent through the WAL because
	// they overlap the live head.
	ViaWAL int
}

// loadHead is one private head: the samples of one generation and window.
type loadHead struct {
	head *tsdb.Head
	dir  string
	refs []storage.SeriesRef // by series cache index
	app  storage.Appender    // open during Add
}

// loadSample is one sample of an Add call, by series cache index.
type loadSample struct {
	series int32
	t      int64
	v      float64
}

// cmpSample orders samples by series, then time.
func cmpSample(a, b loadSample) int {
	if c := cmp.Compare(a.series, b.series); c != 0 {
		return c
	}
	return cmp.Compare(a.t, b.t)
}

// NewLoader starts a bulk load. Samples added to it are invisible and not
// durable until Commit returns; Close discards uncommitted samples and must
// always be called. Use Write for live data and small batches; a Loader is
// for history (a file ingest, the demo preload) of a million points or more.
func (s *Store) NewLoader() (*Loader, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.mu.RUnlock()
	dir, err := os.MkdirTemp(s.dir, loaderDirPrefix+"*"+loaderDirSuffix)
	if err != nil {
		return nil, fmt.Errorf("embedded: loader: %w", err)
	}
	w := s.loadWindow()
	c, err := tsdb.NewLeveledCompactor(context.Background(), nil, s.opts.Logger, []int64{w}, chunkenc.NewPool(), nil)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("embedded: loader: %w", err), os.RemoveAll(dir))
	}
	return &Loader{s: s, window: w, dir: dir, cache: newSeriesCache(), parts: map[int64][]string{}, compactr: c}, nil
}

// Names of loader temporary directories inside the store directory. TSDB
// ignores directories whose names are not block IDs; Open removes leftovers
// of a crashed load.
const (
	loaderDirPrefix = "foresight-load-"
	loaderDirSuffix = ".tmp"
)

// removeLoaderLeftovers deletes temporary loader directories left by a
// crash. It runs after TSDB has taken the directory lock.
func removeLoaderLeftovers(dir string) error {
	m, err := filepath.Glob(filepath.Join(dir, loaderDirPrefix+"*"+loaderDirSuffix))
	if err != nil {
		return err
	}
	for _, d := range m {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	return nil
}

// loadWindow is the span of a loaded block: the largest range background
// compaction produces, so loaded blocks look like compacted ones and
// retention drops them at the same granularity.
func (s *Store) loadWindow() int64 {
	minB := s.opts.MinBlockDuration.Milliseconds()
	maxB := s.opts.MaxBlockDuration.Milliseconds()
	w := minB
	for _, r := range tsdb.ExponentialBlockRanges(minB, 10, 3) {
		if r <= maxB {
			w = r
		}
	}
	return w
}

// Backfill loads points through a Loader in one call and commits them: when
// it returns nil they are durable and readable. It suits one large batch;
// to stream a large file, use NewLoader, Add each batch, then Commit once
// (committing every small batch makes many small blocks).
func (s *Store) Backfill(ctx context.Context, points []engine.Point) error {
	l, err := s.NewLoader()
	if err != nil {
		return err
	}
	defer l.Close()
	addErr := l.Add(ctx, points)
	if addErr != nil && !errors.Is(addErr, errRejectedSamples) {
		return addErr
	}
	if err := l.Commit(ctx); err != nil {
		return err
	}
	return addErr
}

// errRejectedSamples marks errors that report samples refused individually
// while the rest of the batch was accepted.
var errRejectedSamples = errors.New("samples rejected")

// errLoaderClosed is returned by a Loader's methods after Close.
var errLoaderClosed = errors.New("embedded: loader is closed")

// Add buffers points. It validates them as Write does (a malformed point
// fails the whole call and nothing is added; points must have a time),
// skips NaN values, and accepts samples in any order; a sample repeated with
// the same value is stored once. Add returns an error counting the samples
// it refused (a different value at a series' newest timestamp); the others
// are kept.
func (l *Loader) Add(ctx context.Context, points []engine.Point) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errLoaderClosed
	}
	if err := l.s.acquire(); err != nil {
		return err
	}
	defer l.s.mu.RUnlock()
	if err := ctx.Err(); err != nil {
		return err
	}

	// Resolve series and validate everything before buffering anything.
	ss := l.samples[:0]
	for i := range points {
		p := &points[i]
		if p.Time.IsZero() {
			return fmt.Errorf("embedded: loader: point %d (%s): %w: no timestamp", i, p.Measurement, ErrInvalidPoint)
		}
		t := toMillis(p.Time)
		th := l.cache.tagsHash(p.Measurement, p.Tags)
		for field, v := range p.Fields {
			if math.IsNaN(v) {
				continue
			}
			idx, err := l.cache.index(th, p, field)
			if err != nil {
				return fmt.Errorf("embedded: loader: point %d (%s): %w", i, p.Measurement, err)
			}
			ss = append(ss, loadSample{series: idx, t: t, v: v})
		}
	}
	l.samples = ss[:0]
	if !slices.IsSortedFunc(ss, cmpSample) {
		slices.SortStableFunc(ss, cmpSample)
	}

	// On failure the whole batch is dropped, including what was set aside.
	p0 := len(l.pending)
	abort := func(err error) error {
		l.pending = l.pending[:p0]
		return errors.Join(err, l.rollback())
	}
	var rej rejections
	for i, smp := range ss {
		if i&4095 == 4095 {
			if err := ctx.Err(); err != nil {
				return abort(err)
			}
		}
		sr := &l.cache.entries[smp.series]
		lh, err := l.head(0, smp.t)
		if err != nil {
			return abort(err)
		}
		ref, err := lh.app.Append(lh.ref(smp.series), sr.lset, smp.t, smp.v)
		switch {
		case err == nil:
			lh.refs[smp.series] = ref
		case errors.Is(err, storage.ErrOutOfOrderSample):
			l.pending = append(l.pending, smp)
		default:
			rej.add(err, sr.lset, smp.t)
		}
	}
	if err := l.commitAppenders(); err != nil {
		return abort(err)
	}
	l.inHeads += len(ss) - rej.n - (len(l.pending) - p0)
	l.stats.Samples += len(ss) - rej.n
	l.stats.Rejected += rej.n
	if len(l.pending) >= loaderSpillSamples {
		if err := l.spill(); err != nil {
			return err
		}
	}
	if l.inHeads >= loaderMemSamples {
		if err := l.writeParts(ctx); err != nil {
			return err
		}
	}
	if err := rej.err(len(ss)); err != nil {
		return fmt.Errorf("%w: %w", errRejectedSamples, err)
	}
	return nil
}

// spill sorts the set-aside samples into a new generation of heads.
func (l *Loader) spill() error {
	if len(l.pending) == 0 {
		return nil
	}
	slices.SortStableFunc(l.pending, cmpSample)
	g := len(l.gens)
	for _, smp := range l.pending {
		sr := &l.cache.entries[smp.series]
		lh, err := l.head(g, smp.t)
		if err != nil {
			return errors.Join(err, l.rollback())
		}
		// In a fresh head and in order: only a repeated timestamp can fail,
		// and repeats are dropped (the first value wins).
		if ref, err := lh.app.Append(lh.ref(smp.series), sr.lset, smp.t, smp.v); err == nil {
			lh.refs[smp.series] = ref
		}
	}
	l.inHeads += len(l.pending)
	l.pending = l.pending[:0]
	return l.commitAppenders()
}

// head returns generation g's head for t's window, creating it (and the
// generation) on first use, with an open appender.
func (l *Loader) head(g int, t int64) (*loadHead, error) {
	for len(l.gens) <= g {
		l.gens = append(l.gens, map[int64]*loadHead{})
	}
	w := t - mod(t, l.window)
	lh := l.gens[g][w]
	if lh == nil {
		l.seq++
		dir := filepath.Join(l.dir, fmt.Sprintf("head-%d", l.seq))
		ho := tsdb.DefaultHeadOptions()
		// A head refuses samples older than MaxTime-ChunkRange/2; twice
		// the window lets it take its window's series in any order.
		ho.ChunkRange = 2 * l.window
		ho.ChunkDirRoot = dir
		ho.StripeSize = 1 << 10
		h, err := tsdb.NewHead(nil, l.s.opts.Logger, nil, nil, ho, tsdb.NewHeadStats())
		if err != nil {
			return nil, fmt.Errorf("embedded: loader: new head: %w", err)
		}
		if err := h.Init(math.MinInt64); err != nil {
			return nil, errors.Join(fmt.Errorf("embedded: loader: init head: %w", err), h.Close())
		}
		lh = &loadHead{head: h, dir: dir}
		l.gens[g][w] = lh
	}
	if lh.app == nil {
		lh.app = lh.head.Appender(context.Background())
	}
	return lh, nil
}

// ref returns the head's cached reference of a series (0 when unknown).
func (lh *loadHead) ref(series int32) storage.SeriesRef {
	if int(series) >= len(lh.refs) {
		lh.refs = append(lh.refs, make([]storage.SeriesRef, int(series)+1-len(lh.refs))...)
	}
	return lh.refs[series]
}

// commitAppenders commits every open appender.
func (l *Loader) commitAppenders() error {
	var errs []error
	for _, gen := range l.gens {
		for _, lh := range gen {
			if lh.app != nil {
				errs = append(errs, lh.app.Commit())
				lh.app = nil
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("embedded: loader: %w", err)
	}
	return nil
}

// rollback drops what the open appenders hold (the current Add call).
func (l *Loader) rollback() error {
	var errs []error
	for _, gen := range l.gens {
		for _, lh := range gen {
			if lh.app != nil {
				errs = append(errs, lh.app.Rollback())
				lh.app = nil
			}
		}
	}
	return errors.Join(errs...)
}

// base is the meta of every block a Loader writes: flagged out-of-order, so
// that it does not move the point from which TSDB replays its WAL.
func loadedBlockMeta() *tsdb.BlockMeta {
	m := &tsdb.BlockMeta{}
	m.Compaction.SetOutOfOrder()
	return m
}

// writeParts writes every head as a partial block in the temporary
// directory and drops the heads.
func (l *Loader) writeParts(ctx context.Context) error {
	dest := filepath.Join(l.dir, "parts")
	if err := os.MkdirAll(dest, 0o777); err != nil {
		return fmt.Errorf("embedded: loader: %w", err)
	}
	for _, gen := range l.gens {
		for w, lh := range gen {
			if err := ctx.Err(); err != nil {
				return err
			}
			h := lh.head
			if h.NumSeries() == 0 {
				continue
			}
			// Block intervals are half-open: [MinTime, MaxTime).
			ids, err := l.compactr.Write(dest, h, h.MinTime(), h.MaxTime()+1, loadedBlockMeta())
			if err != nil {
				return fmt.Errorf("embedded: loader: write block: %w", err)
			}
			for _, id := range ids {
				l.parts[w] = append(l.parts[w], filepath.Join(dest, id.String()))
			}
			l.stats.Parts += len(ids)
		}
	}
	return l.closeHeads()
}

// Commit persists everything added so far and makes it readable: when it
// returns nil the samples are durable. The Loader stays usable for more
// Add/Commit rounds. Commit is not atomic across windows: if it fails (or the
// process dies) part of the data may be loaded; loading the same data again
// is safe, repeated samples are merged.
func (l *Loader) Commit(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errLoaderClosed
	}
	if err := l.s.acquire(); err != nil {
		return err
	}
	defer l.s.mu.RUnlock()
	if err := l.spill(); err != nil {
		return err
	}
	if err := l.writeParts(ctx); err != nil {
		return err
	}
	defer func() {
		for _, ps := range l.parts {
			for _, p := range ps {
				os.RemoveAll(p)
			}
		}
		clear(l.parts)
	}()

	// Time range of everything to load.
	maxt := int64(math.MinInt64)
	metas := map[string]tsdb.BlockMeta{}
	for _, ps := range l.parts {
		for _, p := range ps {
			b, err := tsdb.OpenBlock(l.s.opts.Logger, p, nil, nil)
			if err != nil {
				return fmt.Errorf("embedded: loader: %w", err)
			}
			metas[p] = b.Meta()
			maxt = max(maxt, b.Meta().MaxTime-1)
			if err := b.Close(); err != nil {
				return fmt.Errorf("embedded: loader: %w", err)
			}
		}
	}
	if maxt == math.MinInt64 {
		return nil // nothing added
	}

	db := l.s.db
	// Samples at or after the live head's in-order data must not go into a
	// block (see the comment at the top of this file). Raising the head's
	// minimum valid time to the cut first makes concurrent in-order writes
	// land above it, so the cut stays valid while blocks are written.
	cut := min(db.Head().MinTime(), maxt+1)
	l.s.raiseMinValidTime(cut)

	for _, ps := range l.parts {
		if err := ctx.Err(); err != nil {
			return err
		}
		below := true
		for _, p := range ps {
			below = below && metas[p].MaxTime <= cut
		}
		switch {
		case below && len(ps) == 1:
			// The part is the final block: move it in.
			if err := moveBlock(ps[0], db.Dir()); err != nil {
				return err
			}
			l.stats.Blocks++
		case below:
			ids, err := l.compactr.Compact(db.Dir(), ps, nil)
			if err != nil {
				return fmt.Errorf("embedded: loader: merge blocks: %w", err)
			}
			l.stats.Blocks += len(ids)
		default:
			if err := l.commitAcrossCut(ctx, ps, cut); err != nil {
				return err
			}
		}
	}
	// Make TSDB load the new blocks now rather than at its next periodic
	// reload; compacting the (usually empty) out-of-order head is the
	// exported way to do that.
	if err := db.CompactOOOHead(ctx); err != nil {
		return fmt.Errorf("embedded: loader: load blocks: %w", err)
	}
	return nil
}

// commitAcrossCut loads a window that reaches the live head: the part
// before cut as a block, the rest through the WAL.
func (l *Loader) commitAcrossCut(ctx context.Context, parts []string, cut int64) error {
	merged := parts[0]
	if len(parts) > 1 {
		ids, err := l.compactr.Compact(filepath.Join(l.dir, "parts"), parts, nil)
		if err != nil {
			return fmt.Errorf("embedded: loader: merge blocks: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		merged = filepath.Join(l.dir, "parts", ids[0].String())
		defer os.RemoveAll(merged)
	}
	b, err := tsdb.OpenBlock(l.s.opts.Logger, merged, nil, nil)
	if err != nil {
		return fmt.Errorf("embedded: loader: %w", err)
	}
	defer b.Close()
	if mint := b.Meta().MinTime; mint < cut {
		ids, err := l.compactr.Write(l.s.db.Dir(), b, mint, cut, loadedBlockMeta())
		if err != nil {
			return fmt.Errorf("embedded: loader: write block: %w", err)
		}
		l.stats.Blocks += len(ids)
	}
	return l.writeRecent(ctx, b, cut)
}

// writeRecent sends the samples of b at or after cut through the WAL.
func (l *Loader) writeRecent(ctx context.Context, b tsdb.BlockReader, cut int64) error {
	const batch = 50000
	q, err := tsdb.NewBlockQuerier(b, cut, math.MaxInt64)
	if err != nil {
		return fmt.Errorf("embedded: loader: %w", err)
	}
	defer q.Close()
	app := l.s.db.Appender(ctx)
	n := 0
	var it chunkenc.Iterator
	ss := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchNotEqual, MeasurementLabel, ""))
	for ss.Next() {
		series := ss.At()
		lset := series.Labels()
		var ref storage.SeriesRef
		it = series.Iterator(it)
		for it.Next() == chunkenc.ValFloat {
			t, v := it.At()
			if ref, err = app.Append(ref, lset, t, v); err != nil {
				return errors.Join(fmt.Errorf("embedded: loader: %w", err), app.Rollback())
			}
			l.stats.ViaWAL++
			if n++; n%batch == 0 {
				if err := app.Commit(); err != nil {
					return fmt.Errorf("embedded: loader: %w", err)
				}
				app = l.s.db.Appender(ctx)
				ref = 0
			}
		}
	}
	if err := ss.Err(); err != nil {
		return errors.Join(fmt.Errorf("embedded: loader: %w", err), app.Rollback())
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("embedded: loader: %w", err)
	}
	return nil
}

// moveBlock renames a finished block directory into dir and syncs dir, so
// the block appears atomically and durably. Both are in the store
// directory, hence on the same file system.
func moveBlock(block, dir string) error {
	dst := filepath.Join(dir, filepath.Base(block))
	if err := os.Rename(block, dst); err != nil {
		return fmt.Errorf("embedded: loader: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("embedded: loader: %w", err)
	}
	if err := errors.Join(d.Sync(), d.Close()); err != nil {
		return fmt.Errorf("embedded: loader: sync %s: %w", dir, err)
	}
	return nil
}

// closeHeads closes and deletes every private head.
func (l *Loader) closeHeads() error {
	var errs []error
	for _, gen := range l.gens {
		for _, lh := range gen {
			if lh.app != nil {
				errs = append(errs, lh.app.Rollback())
			}
			errs = append(errs, lh.head.Close(), os.RemoveAll(lh.dir))
		}
	}
	l.gens = nil
	l.inHeads = 0
	return errors.Join(errs...)
}

// Stats returns what the Loader has done so far.
func (l *Loader) Stats() LoadStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Close discards samples not yet committed and removes the Loader's
// temporary files. It is safe to call more than once.
func (l *Loader) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	l.pending = nil
	return errors.Join(l.closeHeads(), os.RemoveAll(l.dir))
}

// raiseMinValidTime makes the live head refuse in-order samples before t
// (they take the out-of-order path instead); it never lowers the bound.
func (s *Store) raiseMinValidTime(t int64) {
	h := s.db.Head()
	if cur, ok := h.AppendableMinValidTime(); ok && cur >= t {
		return
	}
	h.SetMinValidTime(t)
}
