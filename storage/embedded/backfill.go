package embedded

import (
	"context"
	"errors"

	"github.com/seed-f1b503aa/foresight/engine"
)

// Backfill is a placeholder.
func (s *Store) Backfill(ctx context.Context, points []engine.Point) error {
	return errors.New("todo")
}
