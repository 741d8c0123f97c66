package datasets

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// M4Series is one series of the M4 forecasting competition: its id (e.g.
// "H1") with the training values and the held-out test values that follow
// them.
type M4Series struct {
	ID    string
	Train []float64
	Test  []float64
}

// LoadM4 reads an M4 train file and the matching test file (e.g.
// Hourly-train.csv and Hourly-test.csv). Both have a header row
// ("V1","V2",...) and one row per series: the id, then its values, padded
// with empty cells to the longest row. Series are returned in train-file
// order; every series must have a test row and vice versa. testPath may be
// "" to read training data only (Test is then nil).
func LoadM4(trainPath, testPath string) ([]M4Series, error) {
	tr, err := os.Open(trainPath)
	if err != nil {
		return nil, fmt.Errorf("m4: %w", err)
	}
	defer tr.Close()
	var te io.Reader
	if testPath != "" {
		f, err := os.Open(testPath)
		if err != nil {
			return nil, fmt.Errorf("m4: %w", err)
		}
		defer f.Close()
		te = f
	}
	out, err := ReadM4(tr, te)
	if err != nil {
		return nil, fmt.Errorf("m4 %s: %w", errFile(err, trainPath, testPath), err)
	}
	return out, nil
}

// m4FileError tells which file an error came from.
type m4FileError struct {
	test bool
	err  error
}

func (e *m4FileError) Error() string {
	which := "train"
	if e.test {
		which = "test"
	}
	return which + " file: " + e.err.Error()
}

func (e *m4FileError) Unwrap() error { return e.err }

func errFile(err error, train, test string) string {
	var fe *m4FileError
	if errors.As(err, &fe) && fe.test {
		return test
	}
	return train
}

// ReadM4 is LoadM4 on readers; test may be nil. Errors are *CSVError
// (wrapped) naming the line and column (V1, V2, ...).
func ReadM4(train, test io.Reader) ([]M4Series, error) {
	series, err := readM4File(train)
	if err != nil {
		return nil, &m4FileError{err: err}
	}
	if test == nil {
		out := make([]M4Series, len(series))
		for i, s := range series {
			out[i] = s.M4Series
		}
		return out, nil
	}
	tests, err := readM4File(test)
	if err != nil {
		return nil, &m4FileError{test: true, err: err}
	}
	index := make(map[string]int, len(series))
	for i, s := range series {
		index[s.ID] = i
	}
	for _, t := range tests {
		i, ok := index[t.ID]
		if !ok {
			return nil, &m4FileError{test: true, err: csvErr(t.line, "V1", "series %q is not in the train file", t.ID)}
		}
		series[i].Test = t.Train
	}
	for _, s := range series {
		if s.Test == nil {
			return nil, &m4FileError{test: true, err: fmt.Errorf("series %q has no row", s.ID)}
		}
	}
	out := make([]M4Series, len(series))
	for i, s := range series {
		out[i] = s.M4Series
	}
	return out, nil
}

type m4Row struct {
	M4Series
	line int
}

func readM4File(r io.Reader) ([]m4Row, error) {
	rr := newRows(r)
	rr.cr.Comment = 0
	var header []string
	var out []m4Row
	seen := map[string]int{}
	for {
		rec, line, err := rr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if header == nil && len(out) == 0 && len(rec) > 0 && rec[0] == "V1" {
			header = append([]string(nil), rec...)
			continue
		}
		col := func(i int) string {
			if i < len(header) {
				return header[i]
			}
			return "V" + strconv.Itoa(i+1)
		}
		if len(rec) == 0 || rec[0] == "" {
			return nil, csvErr(line, col(0), "empty series id")
		}
		id := rec[0]
		if prev, dup := seen[id]; dup {
			return nil, csvErr(line, col(0), "series %q already on line %d", id, prev)
		}
		seen[id] = line
		vals := make([]float64, 0, len(rec)-1)
		end := len(rec)
		for end > 1 && rec[end-1] == "" {
			end--
		}
		for i := 1; i < end; i++ {
			if rec[i] == "" {
				return nil, csvErr(line, col(i), "empty cell before the last value (rows may only be padded at the end)")
			}
			v, err := ParseValue(rec[i])
			if err != nil || v != v {
				if err == nil {
					err = fmt.Errorf("missing value %q inside the series", rec[i])
				}
				return nil, &CSVError{Line: line, Column: col(i), Err: err}
			}
			vals = append(vals, v)
		}
		if len(vals) == 0 {
			return nil, csvErr(line, col(1), "series %q has no values", id)
		}
		out = append(out, m4Row{M4Series: M4Series{ID: id, Train: vals}, line: line})
	}
	if len(out) == 0 {
		return nil, &CSVError{Err: errors.New("no series rows")}
	}
	return out, nil
}
