package embedded

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-f1b503aa/foresight/engine"
)

// mountSmallTmpfs mounts a tmpfs of size bytes on a fresh temporary
// directory and unmounts it at cleanup. It skips the test when that is not
// possible (not root, no mount(8), no permission in a container).
func mountSmallTmpfs(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("disk-full test needs root to mount a small tmpfs; skipped")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("disk-full test skipped: cannot mount a tmpfs on %s: %v %s", dir, err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		// Lazy unmount: a file still open after a failed test must not
		// leave the mount behind.
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fullBatch is one batch of the disk-full test: n new series (tag batch=i)
// with k one-minute samples each, all within k minutes of t0 so that no
// head chunk is ever cut (the samples stay in the head and the WAL), with
// random values that the WAL's compression cannot shrink.
func fullBatch(i, n, k int, rng *rand.Rand) []engine.Point {
	pts := make([]engine.Point, 0, n*k)
	for s := 0; s < n; s++ {
		tags := map[string]string{"batch": fmt.Sprint(i), "s": fmt.Sprint(s), "host": "db-01"}
		for j := 0; j < k; j++ {
			pts = append(pts, engine.Point{Measurement: "fill", Tags: tags, Fields: map[string]float64{"v": rng.Float64()},
				Time: t0.Add(time.Duration(j) * time.Minute)})
		}
	}
	return pts
}

// checkBatch reads series 0 and n-1 of batch i back and compares them with
// what was written.
func checkBatch(t *testing.T, s *Store, batch []engine.Point, n, k int) {
	t.Helper()
	ctx := context.Background()
	for _, si := range []int{0, n - 1} {
		want := batch[si*k : (si+1)*k]
		key := engine.SeriesKey{Measurement: "fill", Field: "v", Tags: want[0].Tags}
		got, err := s.Read(ctx, key, engine.RangeQuery{Start: t0, End: t0.Add(time.Duration(k) * time.Minute)})
		if err != nil {
			t.Fatalf("read %s: %v", key.ID(), err)
		}
		if len(got.Samples) != k {
			t.Fatalf("read %s: %d samples, want %d", key.ID(), len(got.Samples), k)
		}
		for j, smp := range got.Samples {
			if !smp.Time.Equal(want[j].Time) || smp.Value != want[j].Fields["v"] {
				t.Fatalf("read %s: sample %d is %v=%v, want %v=%v", key.ID(), j, smp.Time, smp.Value, want[j].Time, want[j].Fields["v"])
			}
		}
	}
}

// TestDiskFull fills a small tmpfs holding the store until a write fails:
// the failure is an error (not a panic) that says the disk is full, what
// was acknowledged before stays readable, the store keeps answering, and
// once space is freed writes succeed again.
func TestDiskFull(t *testing.T) {
	const (
		size   = 4 << 20 // the tmpfs
		filler = 1 << 20 // deleted later to free space
		n, k   = 500, 20 // series × samples per batch
		maxB   = 400     // batches: far more than 4 MiB can hold
	)
	mnt := mountSmallTmpfs(t, size)
	fill := filepath.Join(mnt, "filler")
	if err := os.WriteFile(fill, make([]byte, filler), 0o600); err != nil {
		t.Fatalf("filler file: %v", err)
	}
	s, err := Open(filepath.Join(mnt, "tsdb"), Options{})
	if err != nil {
		t.Fatalf("open on the tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() }) // runs before the unmount (cleanups are LIFO)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))

	var written [][]engine.Point
	var failed []engine.Point
	var werr error
	for i := 0; i < maxB; i++ {
		b := fullBatch(i, n, k, rng)
		if werr = s.Write(ctx, b); werr != nil {
			failed = b
			break
		}
		written = append(written, b)
	}
	if werr == nil {
		t.Fatalf("%d batches of %d samples fitted on a %d-byte tmpfs", maxB, n*k, size)
	}
	t.Logf("write %d failed after %d acknowledged batches (%d samples): %v", len(written)+1, len(written), len(written)*n*k, werr)
	if len(written) == 0 {
		t.Fatalf("the first write already failed: %v", werr)
	}
	if !errors.Is(werr, syscall.ENOSPC) || !strings.Contains(werr.Error(), "no space left on device") {
		t.Errorf("the error does not say the disk is full: %v", werr)
	}

	// The store keeps answering, and everything acknowledged is readable.
	if err := s.Ping(ctx); err != nil {
		t.Errorf("ping with the disk full: %v", err)
	}
	for _, i := range []int{0, len(written) / 2, len(written) - 1} {
		checkBatch(t, s, written[i], n, k)
	}
	keys, err := s.ListSeries(ctx, engine.SeriesFilter{Measurement: "fill", Start: t0, End: t0.Add(time.Hour), Tags: map[string]string{"s": "0"}})
	if err != nil {
		t.Fatalf("list with the disk full: %v", err)
	}
	// The failed batch is not visible: its samples were rolled back.
	if len(keys) != len(written) {
		t.Errorf("listed %d series with s=0, want %d (one per acknowledged batch)", len(keys), len(written))
	}
	// Still full: a small write fails the same way, and nothing panics.
	if err := s.Write(ctx, fullBatch(maxB+1, 50, k, rng)); err == nil {
		t.Log("a small write fitted in what was left")
	} else if !strings.Contains(err.Error(), "no space left on device") {
		t.Errorf("second write on the full disk: %v", err)
	}

	// Free space: writes succeed again, the refused batch included.
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, failed); err != nil {
		t.Fatalf("retrying the refused batch after freeing space: %v", err)
	}
	next := fullBatch(maxB+2, n, k, rng)
	if err := s.Write(ctx, next); err != nil {
		t.Fatalf("a new batch after freeing space: %v", err)
	}
	checkBatch(t, s, failed, n, k)
	checkBatch(t, s, next, n, k)
	checkBatch(t, s, written[0], n, k)
}
