package fleet

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
)

// TestRunTasksSurvivesPanics: a predictor that panics on one entity fails
// that entity's prediction (status error, the panic in Error) instead of
// killing the process; the other entities are predicted as usual and the
// panic is logged with its stack.
func TestRunTasksSurvivesPanics(t *testing.T) {
	ok := func(id string) task {
		return task{kind: KindDisk, id: id, run: func() Prediction { return Prediction{Kind: KindDisk, ID: id, Status: "ok"} }}
	}
	tasks := []task{ok("a"), {
		kind: KindMemLeak, id: "b", entity: map[string]string{"host": "h"}, series: []string{"mem,host=h#used"},
		run: func() Prediction {
			var s []float64
			return Prediction{Summary: string(rune(s[3]))} // index out of range
		},
	}, ok("c")}
	var logs bytes.Buffer
	preds := runTasks(context.Background(), tasks, 2, slog.New(slog.NewTextHandler(&logs, nil)))
	if len(preds) != 3 || preds[0].ID != "a" || preds[0].Status != "ok" || preds[2].ID != "c" || preds[2].Status != "ok" {
		t.Fatalf("predictions %+v", preds)
	}
	b := preds[1]
	if b.Kind != KindMemLeak || b.ID != "b" || b.Status != "error" || b.Entity["host"] != "h" || len(b.Series) != 1 ||
		!strings.Contains(b.Error, "panicked: runtime error: index out of range [3] with length 0") {
		t.Fatalf("panicking task: %+v", b)
	}
	if l := logs.String(); !strings.Contains(l, "fleet predictor panicked") || !strings.Contains(l, "runtasks_test.go") {
		t.Fatalf("log: %s", l)
	}
}
