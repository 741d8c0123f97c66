package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestForecastCLI(t *testing.T) {
	var b strings.Builder
	b.WriteString("series,timestamp,value\n")
	for i := 0; i < 24*8; i++ {
		ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
		fmt.Fprintf(&b, "a,%s,%.3f\n", ts, 50+20*math.Sin(2*math.Pi*float64(i)/24))
		fmt.Fprintf(&b, "b,%s,%.3f\n", ts, 10+float64(i%24))
	}
	in := writeTemp(t, "long.csv", b.String())
	out, _, err := runCLI(t, "forecast", "-in", in, "-horizon", "6", "-model", "snaive", "-season", "24", "-level", "80,95")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != "series,timestamp,mean,lo80,hi80,lo95,hi95,model" || len(rows) != 13 {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	if rows[1][0] != "a" || rows[1][1] != "2026-01-09T00:00:00Z" || rows[7][0] != "b" || rows[7][2] != "10" {
		t.Fatalf("rows %v / %v", rows[1], rows[7])
	}
	out, _, err = runCLI(t, "forecast", "-in", in, "-horizon", "2", "-model", "ets", "-format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Forecasts []struct {
			Series string           `json:"series"`
			Points []map[string]any `json:"points"`
		} `json:"forecasts"`
	}
	if err := json.Unmarshal([]byte(out), &js); err != nil || len(js.Forecasts) != 2 || len(js.Forecasts[1].Points) != 2 {
		t.Fatalf("%v %s", err, out)
	}
	// bare values with a step
	vals := writeTemp(t, "v.csv", "value\n1\n2\n3\n4\n5\n6\n")
	out, _, err = runCLI(t, "forecast", "-in", vals, "-horizon", "1", "-step", "1h", "-start", "2026-01-01T00:00:00Z", "-model", "snaive")
	if err != nil || !strings.Contains(out, "2026-01-01T06:00:00Z,6,") {
		t.Fatalf("%v %s", err, out)
	}
	for _, bad := range [][]string{
		{"forecast", "-in", in},
		{"forecast", "-in", in, "-horizon", "3", "-level", "120"},
		{"forecast", "-in", in, "-horizon", "3", "-season", "x"},
		{"forecast", "-in", in, "-horizon", "3", "-format", "xml"},
		{"forecast", "-in", in, "-horizon", "3", "-model", "prophet"},
	} {
		if _, _, err := runCLI(t, bad...); err == nil || exitCode(err) != 2 {
			t.Errorf("%v: %v (exit %d)", bad, err, exitCode(err))
		}
	}
	short := writeTemp(t, "s.csv", "timestamp,value\n1,1\n2,2\n")
	_, stderr, err := runCLI(t, "forecast", "-in", short, "-horizon", "2")
	if err == nil || !strings.Contains(stderr, "insufficient history") {
		t.Fatalf("short: %v %s", err, stderr)
	}
}

func TestPredictAndDetectCLI(t *testing.T) {
	// a disk filling 10 GiB a day from 100 of 1000 GiB, hourly for 20 days
	const gib = 1 << 30
	var disk, mem, load strings.Builder
	disk.WriteString("timestamp,used,total\n")
	mem.WriteString("timestamp,memory,limit\n")
	load.WriteString("timestamp,value\n")
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 20*24; i++ {
		ts := t0.Add(time.Duration(i) * time.Hour).Unix()
		fmt.Fprintf(&disk, "%d,%d,%d\n", ts, int64((100+10*float64(i)/24)*gib), int64(1000*gib))
		saw := float64(i%6) * 50e6 // a GC sawtooth over a leak of 5 MB/h
		fmt.Fprintf(&mem, "%d,%.0f,%d\n", ts, 1e9+5e6*float64(i)+saw, int64(4e9))
		v := 10.0
		if i == 300 {
			v = 500
		}
		fmt.Fprintf(&load, "%d,%.1f\n", ts, v+math.Sin(float64(i)))
	}
	out, _, err := runCLI(t, "predict", "disk", "-in", writeTemp(t, "d.csv", disk.String()), "-format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Status string `json:"status"`
		Full   struct {
			P50 *time.Time `json:"p50"`
		} `json:"full"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Status != "filling" || d.Full.P50 == nil {
		t.Fatalf("%v %s", err, out)
	}
	// 100 GiB + 10 GiB/day reaches 1000 GiB 90 days after t0
	want := t0.Add(90 * 24 * time.Hour)
	if diff := d.Full.P50.Sub(want); diff < -48*time.Hour || diff > 48*time.Hour {
		t.Fatalf("full at %v, want about %v", d.Full.P50, want)
	}
	out, _, err = runCLI(t, "predict", "memleak", "-in", writeTemp(t, "m.csv", mem.String()), "-format", "table")
	if err != nil || !strings.Contains(out, "leak") {
		t.Fatalf("memleak: %v %s", err, out)
	}
	_, _, err = runCLI(t, "predict", "monthend", "-in", writeTemp(t, "l.csv", load.String()), "-format", "json")
	if err == nil {
		t.Fatal("20 days of load predicted a month-end close without two past closes")
	}
	out, _, err = runCLI(t, "detect", "-in", writeTemp(t, "l.csv", load.String()), "-season", "24")
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(strings.NewReader(out)).ReadAll()
	if strings.Join(rows[0], ",") != "timestamp,value,score,anomaly" || len(rows) != 20*24+1 {
		t.Fatalf("detect header %v, %d rows", rows[0], len(rows))
	}
	if rows[301][3] != "true" {
		t.Fatalf("the spike at hour 300 was not flagged: %v", rows[301])
	}
	for _, bad := range [][]string{{"predict"}, {"predict", "cpu"}, {"predict", "disk"}, {"detect"}} {
		if _, _, err := runCLI(t, bad...); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestMiscCommands(t *testing.T) {
	out, _, err := runCLI(t, "config", "example")
	if err != nil || !strings.Contains(out, "backend: embedded") {
		t.Fatalf("%v %s", err, out)
	}
	out, _, err = runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "foresight ") {
		t.Fatal(out, err)
	}
	dir := t.TempDir()
	out, _, err = runCLI(t, "demo", "-out", dir, "-hosts", "3", "-days", "2", "-step", "1h")
	if err != nil || !strings.Contains(out, "3 hosts") {
		t.Fatalf("%v %s", err, out)
	}
	for _, f := range []string{"fleet.lp", "fleet.csv", "truth.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, bad := range [][]string{{}, {"frobnicate"}, {"config"}, {"demo"}, {"bench"}, {"bench", "m5"}, {"ingest"}} {
		if _, _, err := runCLI(t, bad...); err == nil || exitCode(err) != 2 {
			t.Errorf("%v: %v", bad, err)
		}
	}
	_, _, err = runCLI(t, "bench", "m4", "-data", "../../datasets/testdata/m4-missing")
	if err == nil {
		t.Error("bench m4 with a missing directory succeeded")
	}
}
