package api_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// FuzzForecastRequest posts arbitrary bodies to POST /api/v1/forecast
// through the real router. No answer may be a 500 or a panic; every
// non-2xx answer is a problem document; a 200 is JSON whose per-series
// errors are never 500 either.
func FuzzForecastRequest(f *testing.F) {
	for _, s := range []string{
		`{"horizon":3,"step":"1h","model":"snaive","season":[4],"levels":[80,95],"series":[{"name":"cpu","start":"2026-01-01T00:00:00Z","values":[1,2,3,4,1,2,3,4,1,2,3,4]}]}`,
		`{"horizon":2,"step":"1h","model":"snaive","season":[2],"series":[{"name":"a","start":"2026-01-01T00:00:00Z","values":[1,2,1,2,1,2]},{"name":"short","start":"2026-01-01T00:00:00Z","values":[1]}]}`,
		`{"horizon":2,"model":"snaive","season":[2],"series":[{"name":"t","timestamps":[1767225600,"2026-01-01T01:00:00Z","1767232800",1767236400.5,1767240000,1767243600],"values":[1,null,3,4,1,2]}]}`,
		`{"horizon":2,"step":"1h","model":"theta","series":[{"start":1767225600,"values":[1,2,3,4,5,6,7,8,9,10,11,12]}]}`,
		`{"horizon":2,"step":"1h","model":"ets","series":[{"start":1767225600,"values":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}]}`,
		`{"horizon":0,"series":[]}`,
		`{"horizon":24,"series":[{"values":[1,2,3]}]}`,
		`{"horizon":24,"step":"0s","series":[{"start":"2026-01-01T00:00:00Z","values":[1]}]}`,
		`{"horizon":24,"step":"-1h","series":[{"start":"2026-01-01T00:00:00Z","values":[1]}]}`,
		`{"horizon":24,"step":"9999999999d","series":[{"start":"2026-01-01T00:00:00Z","values":[1,2,3]}]}`,
		`{"horizon":2147483648,"series":[{"start":"2026-01-01T00:00:00Z","values":[1]}]}`,
		`{"horizon":-1,"series":[{"start":"2026-01-01T00:00:00Z","values":[1]}]}`,
		`{"horizon":2,"step":"1h","levels":[0,100,1e308,-5,NaN],"series":[{"start":"2026-01-01T00:00:00Z","values":[1,2,3]}]}`,
		`{"horizon":2,"step":"1h","season":[0,-1,2147483647,9223372036854775807],"series":[{"start":"2026-01-01T00:00:00Z","values":[1,2,3]}]}`,
		`{"horizon":2,"step":"1h","model":"snaive","season":[2],"series":[{"start":"2026-01-01T00:00:00Z","values":[1e308,-1e308,1e308,-1e308,1e308,-1e308,1e308]}]}`,
		`{"horizon":2,"step":"1h","model":"auto","series":[{"start":"2026-01-01T00:00:00Z","values":[5e-324,0,-0,5e-324,0,-0,5e-324,0,-0,5e-324,0,-0]}]}`,
		`{"horizon":2,"step":"1h","series":[{"start":"2026-01-01T00:00:00Z","values":[null,null,null,null,null,null,null,null]}]}`,
		`{"horizon":2,"series":[{"timestamps":[-99999999999,99999999999],"values":[1,2]}]}`,
		// Near the end of the int64-nanosecond time range (2262-04-11).
		`{"horizon":2,"step":"1h","model":"snaive","season":[2],"series":[{"start":"2262-04-10T00:00:00Z","values":[1,2,3,4]}]}`,
		`{"horizon":2,"series":[{"timestamps":[9223372000,9223372001,9223372002],"values":[1,2,3]}]}`,
		`{"horizon":2,"series":[{"timestamps":[-9223372000,-9223372001,-9223372002],"values":[1,2,3]}]}`,
		`{"horizon":2,"series":[{"timestamps":[1e300,"NaN"],"values":[1,2]}]}`,
		`{"horizon":2,"series":[{"timestamps":["2026-01-01T00:00:00Z"],"values":[1,2]}]}`,
		`{"horizon":2,"series":[{"timestamps":[1,1,1,1,1,1,1,1],"values":[1,2,3,4,5,6,7,8]}]}`,
		`{"horizon":2,"step":"1h","model":"nope","series":[{"start":"2026-01-01T00:00:00Z","values":[1]}]}`,
		`{"horizon":2,"step":"1h","seed":18446744073709551615,"series":[{"start":"2026-01-01T00:00:00Z","values":[1]}]}`,
		`{"horizon":2,"unknown":true,"series":[]}`,
		`{"horizon":"2","series":[]}`,
		`{"horizon":2,"series":[{"name":"\u0000\ud800","start":"2026-01-01T00:00:00Z","values":["1"]}]}`,
		`{"horizon":2,"series":[{"name":"x","start":"2026-01-01T00:00:00Z","values":[1e999]}]}`,
		`{"horizon":2,"series":null}` + "\n" + `{"horizon":3}`,
	} {
		f.Add([]byte(s))
	}
	for _, s := range hostileJSON() {
		f.Add([]byte(s))
	}
	srv := newFuzzServer(f, false)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/forecast", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		code, out := srv.do(t, req)
		if code/100 != 2 {
			return
		}
		var a struct {
			Forecasts []struct {
				Series string `json:"series"`
				Error  *struct {
					Status int    `json:"status"`
					Detail string `json:"detail"`
				} `json:"error"`
			} `json:"forecasts"`
			Failed *int `json:"failed"`
		}
		checkJSON(t, req, out, &a)
		if code != http.StatusOK || len(a.Forecasts) == 0 || a.Failed == nil {
			t.Fatalf("%d answer without forecasts: %s", code, clip(out))
		}
		failed := 0
		for i, fc := range a.Forecasts {
			if fc.Error == nil {
				continue
			}
			failed++
			if fc.Error.Status == http.StatusInternalServerError || fc.Error.Status < 400 || strings.TrimSpace(fc.Error.Detail) == "" {
				t.Fatalf("series %d (%s): error %+v: %s", i, fc.Series, *fc.Error, clip(out))
			}
		}
		if failed != *a.Failed {
			t.Fatalf("failed = %d but %d series carry an error", *a.Failed, failed)
		}
	})
}

// FuzzForecastSeries builds well-formed POST /api/v1/forecast bodies from
// numbers (first time in Unix seconds, spacing in seconds, sample count,
// values), so the fuzzer explores times and steps rather than JSON syntax:
// the same answer rules as FuzzForecastRequest.
func FuzzForecastSeries(f *testing.F) {
	f.Add(int64(1767225600), int64(3600), uint8(12), false, []byte{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4})
	f.Add(int64(1767225600), int64(60), uint8(48), true, []byte{10, 20, 30, 255, 0, 7})
	f.Add(int64(0), int64(1), uint8(3), true, []byte{0})
	f.Add(int64(-86400), int64(86400), uint8(30), false, []byte{5, 4, 3, 2, 1})
	f.Add(int64(1767225600), int64(0), uint8(10), true, []byte{9})
	f.Add(int64(1767225600), int64(-3600), uint8(10), true, []byte{9, 8})
	// Close to the ends of the int64-nanosecond time range (1677 and 2262).
	f.Add(int64(9223360000), int64(3600), uint8(3), true, []byte{1, 2, 3})
	f.Add(int64(9223360000), int64(3600), uint8(3), false, []byte{1, 2, 3})
	f.Add(int64(-9223360000), int64(3600), uint8(3), true, []byte{1, 2, 3})
	srv := newFuzzServer(f, false)
	f.Fuzz(func(t *testing.T, start, step int64, n uint8, stamped bool, vals []byte) {
		if len(vals) == 0 {
			vals = []byte{1}
		}
		var b strings.Builder
		b.WriteString(`{"horizon":2,"model":"snaive","season":[2],`)
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
			b.WriteString(strconv.Itoa(int(vals[i%len(vals)])))
		}
		b.WriteString(`]}]}`)
		req := httptest.NewRequest(http.MethodPost, "/api/v1/forecast", strings.NewReader(b.String()))
		srv.do(t, req)
	})
}
