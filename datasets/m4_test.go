package datasets

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadM4Fixture(t *testing.T) {
	got, err := LoadM4("testdata/m4/Tiny-train.csv", "testdata/m4/Tiny-test.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []M4Series{
		{ID: "T1", Train: []float64{10, 12, 14, 13, 11, 9.5}, Test: []float64{8, 7}},
		{ID: "T2", Train: []float64{100, 110}, Test: []float64{120, 130}},
		{ID: "T3", Train: []float64{-1.5, 0, 1000, 7}, Test: []float64{8, 9}},
	}
	if len(got) != len(want) {
		t.Fatalf("%d series", len(got))
	}
	for i := range want {
		if got[i].ID != want[i].ID || !sameValues(got[i].Train, want[i].Train) || !sameValues(got[i].Test, want[i].Test) {
			t.Errorf("series %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	trainOnly, err := LoadM4("testdata/m4/Tiny-train.csv", "")
	if err != nil || len(trainOnly) != 3 || trainOnly[0].Test != nil {
		t.Errorf("train only: %+v %v", trainOnly, err)
	}
	if _, err := LoadM4("testdata/m4/missing.csv", ""); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: %v", err)
	}
}

func TestReadM4Errors(t *testing.T) {
	const header = `"V1","V2","V3","V4"` + "\n"
	tests := []struct {
		name, train, test string
		line              int
		column            string
		msg               string
	}{
		{"hole in row", header + `"A","1",,"3"` + "\n", "", 2, "V3", "padded at the end"},
		{"bad number", header + `"A","1","2",` + "\n" + `"B","x",,` + "\n", "", 3, "V2", "cannot parse"},
		{"duplicate id", header + `"A","1",,` + "\n" + `"A","2",,` + "\n", "", 3, "V1", "already on line 2"},
		{"no values", header + `"A",,,` + "\n", "", 2, "V2", "no values"},
		{"empty id", header + `,"1",,` + "\n", "", 2, "V1", "empty series id"},
		{"test id unknown", header + `"A","1",,` + "\n", `"V1","V2"` + "\n" + `"Z","1"` + "\n", 2, "V1", "not in the train file"},
		{"test missing a row", header + `"A","1",,` + "\n" + `"B","1",,` + "\n", `"V1","V2"` + "\n" + `"A","1"` + "\n", 0, "", `"B" has no row`},
		{"empty file", "", "", 0, "", "no series rows"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var test *strings.Reader
			if tc.test != "" {
				test = strings.NewReader(tc.test)
			}
			var err error
			if test != nil {
				_, err = ReadM4(strings.NewReader(tc.train), test)
			} else {
				_, err = ReadM4(strings.NewReader(tc.train), nil)
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", err, tc.msg)
			}
			var ce *CSVError
			if tc.line > 0 {
				if !errors.As(err, &ce) || ce.Line != tc.line || ce.Column != tc.column {
					t.Errorf("error %v: want line %d column %q", err, tc.line, tc.column)
				}
			}
			if tc.test != "" && !strings.HasPrefix(err.Error(), "test file:") {
				t.Errorf("error %q does not say it is the test file", err)
			}
		})
	}
}

// m4Dir finds the shared M4 Hourly data: $FORESIGHT_M4_DIR, or shared/ next
// to the repository.
func m4Dir() string {
	for _, dir := range []string{os.Getenv("FORESIGHT_M4_DIR"), "../../shared/data/m4", "/work/shared/data/m4"} {
		if dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, "Hourly-train.csv")); err == nil {
			return dir
		}
	}
	return ""
}

func TestLoadM4Hourly(t *testing.T) {
	dir := m4Dir()
	if dir == "" {
		t.Skip("M4 Hourly data not present (set FORESIGHT_M4_DIR)")
	}
	series, err := LoadM4(filepath.Join(dir, "Hourly-train.csv"), filepath.Join(dir, "Hourly-test.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 414 {
		t.Fatalf("%d series, want 414", len(series))
	}
	for _, s := range series {
		if len(s.Train) < 700 || len(s.Train) > 960 || len(s.Test) != 48 {
			t.Errorf("%s: train %d test %d", s.ID, len(s.Train), len(s.Test))
		}
	}
	if h1 := series[0]; h1.ID != "H1" || h1.Train[0] != 605 || h1.Train[1] != 586 || h1.Test[0] != 619 {
		t.Errorf("H1 starts %v / %v", h1.Train[:3], h1.Test[:3])
	}
}
