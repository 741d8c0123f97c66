package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"strconv"
	"time"

	"github.com/seed-f1b503aa/foresight/storage/embedded"
)

// Exploration only: FuzzForecastRequest without the known Resample crash
// (sample times outside the int64-nanosecond range).
func FuzzZZExplore(f *testing.F) {
	ents, _ := os.ReadDir("testdata/fuzz/FuzzForecastRequest")
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join("testdata/fuzz/FuzzForecastRequest", e.Name()))
		lines := strings.SplitN(string(b), "\n", 3)
		_ = lines
	}
	for _, s := range []string{
		`{"horizon":3,"step":"1h","model":"snaive","season":[4],"levels":[80,95],"series":[{"name":"cpu","start":"2026-01-01T00:00:00Z","values":[1,2,3,4,1,2,3,4,1,2,3,4]}]}`,
		`{"horizon":2,"step":"1h","model":"auto","series":[{"start":"2026-01-01T00:00:00Z","values":[1.7976931348623157e308,1.7976931348623157e308,-1.7976931348623157e308,1.7976931348623157e308,1.7976931348623157e308,-1.7976931348623157e308,1.7976931348623157e308,1.7976931348623157e308]}]}`,
		`{"horizon":2,"series":[{"timestamps":[1767225600,"2026-01-01T01:00:00Z","1767232800",1767236400.5,1767240000,1767243600],"values":[1,null,3,4,1,2]}]}`,
		`{"horizon":2,"step":"1h","model":"ets","series":[{"start":1767225600,"values":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}]}`,
		`{"horizon":2,"step":"1h","model":"mstl","season":[2,4],"series":[{"start":1767225600,"values":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}]}`,
		`{"horizon":2,"step":"1h","model":"regression","series":[{"start":1767225600,"values":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}]}`,
		`{"horizon":2,"step":"1h","model":"theta","series":[{"start":1767225600,"values":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}]}`,
	} {
		f.Add([]byte(s))
	}
	ms, err := embedded.Open(f.TempDir(), embedded.Options{})
	if err != nil {
		f.Fatal(err)
	}
	h := New(Options{Store: ms, RequestTimeout: 10 * time.Second}).Handler()
	lo, hi := time.Unix(0, -1<<63).Add(24*time.Hour), time.Unix(0, 1<<63-1).Add(-24*time.Hour)
	f.Fuzz(func(t *testing.T, body []byte) {
		var req forecastRequest
		if json.Unmarshal(body, &req) == nil {
			step, _ := parseRelative(req.Step)
			for _, s := range req.Series {
				for _, ts := range s.Timestamps {
					if ts.Before(lo) || ts.After(hi) {
						t.Skip()
					}
				}
				if s.Start != nil {
					if s.Start.Before(lo) || s.Start.After(hi) {
						t.Skip()
					}
					if step > 0 {
						end := s.Start.Add(time.Duration(len(s.Values)) * step)
						if end.After(hi) || end.Before(lo) || time.Duration(len(s.Values))*step/step != time.Duration(len(s.Values)) {
							t.Skip()
						}
					}
				}
			}
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/forecast", bytes.NewReader(body)))
		if rec.Code == 500 {
			t.Fatalf("500: %s", rec.Body.String())
		}
		if rec.Code == 200 {
			var a struct {
				Forecasts []struct {
					Error *struct{ Status int } `json:"error"`
				} `json:"forecasts"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &a); err != nil {
				t.Fatalf("200 not JSON: %v %s", err, rec.Body.String())
			}
			for _, fc := range a.Forecasts {
				if fc.Error != nil && fc.Error.Status == 500 {
					t.Fatalf("series 500: %s", rec.Body.String())
				}
			}
		}
	})
}

func FuzzZZExploreSeries(f *testing.F) {
	f.Add(int64(1767225600), int64(3600), uint8(12), false, []byte{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}, uint8(0))
	f.Add(int64(1767225600), int64(60), uint8(48), true, []byte{10, 20, 30, 255, 0, 7}, uint8(1))
	f.Add(int64(9223360000), int64(3600), uint8(3), true, []byte{1, 2, 3}, uint8(2))
	ms, err := embedded.Open(f.TempDir(), embedded.Options{})
	if err != nil {
		f.Fatal(err)
	}
	h := New(Options{Store: ms, RequestTimeout: 10 * time.Second}).Handler()
	models := []string{"snaive", "auto", "ets", "theta", "mstl", "regression"}
	f.Fuzz(func(t *testing.T, start, step int64, n uint8, stamped bool, vals []byte, model uint8) {
		if len(vals) == 0 {
			vals = []byte{1}
		}
		const lim = 9223372036 - 86400
		for i := range int64(n) + 1 {
			ts := start + i*step
			if ts > lim || ts < -lim || (step != 0 && (ts-start)/step != i) {
				t.Skip()
			}
		}
		var b strings.Builder
		b.WriteString(`{"horizon":3,"model":"` + models[int(model)%len(models)] + `",`)
		if !stamped {
			b.WriteString(`"step":"` + strconv.FormatInt(step, 10) + `s",`)
		}
		b.WriteString(`"series":[{"name":"s",`)
		if stamped {
			b.WriteString(`"timestamps":[`)
			for i := range int(n) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatInt(start+int64(i)*step, 10))
			}
			b.WriteString(`],`)
		} else {
			b.WriteString(`"start":` + strconv.FormatInt(start, 10) + `,`)
		}
		b.WriteString(`"values":[`)
		for i := range int(n) {
			if i > 0 {
				b.WriteByte(',')
			}
			v := int(vals[i%len(vals)])
			if len(vals) > 2 && vals[0] == 0xff {
				b.WriteString("1e30" + strconv.Itoa(v%9))
				continue
			}
			b.WriteString(strconv.Itoa(v))
		}
		b.WriteString(`]}]}`)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/v1/forecast", strings.NewReader(b.String())))
		if rec.Code == 500 || strings.Contains(rec.Body.String(), `"status":500`) {
			t.Fatalf("%s -> %d %s", b.String(), rec.Code, rec.Body.String())
		}
	})
}
