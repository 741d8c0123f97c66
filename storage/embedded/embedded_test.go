package embedded

import (
	"testing"

	"github.com/seed-f1b503aa/foresight/engine"
	"github.com/seed-f1b503aa/foresight/storage/storetest"
)

// openTest opens a store in a fresh temporary directory.
func openTest(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.MetricStore { return openTest(t, Options{}) })
}
