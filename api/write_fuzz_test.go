package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/seed-f1b503aa/foresight/engine"
)

// Write modes of FuzzWriteBody, chosen by the fuzzer's mode byte.
const (
	writePlain     = iota // body as is, no Content-Encoding
	writeGzip             // body gzip-compressed, Content-Encoding: gzip
	writeFalseGzip        // body as is but labelled gzip
	writeBadEncode        // an encoding the server does not take
	writeModes
)

// FuzzWriteBody posts arbitrary line protocol with an arbitrary precision
// parameter to the write endpoints (v2 and v1), plain or gzip-encoded. No
// answer may be a 500 or a panic; refusals are problem documents; a batch
// the parser rejects is answered 400 with its bad lines; a batch it accepts
// gets 204, or 400 naming the one line the store refused, or 409 for
// values conflicting with stored ones; never 503, which tells a client to
// retry a batch that cannot succeed.
func FuzzWriteBody(f *testing.F) {
	for _, s := range []string{
		"disk,host=db-01,path=/data used=100i,total=200u 1790000000\n",
		"cpu,host=a\\ b usage_user=1.5,ok=true,msg=\"skipped\"\n",
		"m f=1 1790000000000\n",
		"# comment only\n\n",
		"",
		"m f=1 99999999999999999999\n",
		"m f=1 -9223372036854775808\n",
		"m f=1e309\nm f=NaN\n",
		"m f=1 1\nm f= 2\nm,=x f=1 4\nm f=1 notatime\n",
		"m,t=\xff f=1\n",
		"m,t=a\x00b f=1 1790000000\n",
		"\x1f\x8b\x08\x00\x00\x00\x00\x00",
		"m f=" + strings.Repeat("9", 400) + "\n",
		strings.Repeat("bad line\n", 30),
	} {
		for _, prec := range []string{"", "s"} {
			for mode := range uint8(writeModes) {
				f.Add([]byte(s), prec, mode)
			}
		}
	}
	for _, prec := range []string{"ns", "us", "ms", "n", "u", "µs", "m", "h", "days", "S", "\x00", "%", "s&precision=ns"} {
		f.Add([]byte("m f=1 1790000000\n"), prec, uint8(writePlain))
	}
	srv := newFuzzServer(f, false)
	f.Fuzz(func(t *testing.T, body []byte, precision string, mode uint8) {
		path := "/api/v2/write"
		if mode&0x80 != 0 {
			path = "/write"
		}
		q := url.Values{"precision": {precision}, "bucket": {"ignored"}}
		sent := body
		switch mode % writeModes {
		case writeGzip:
			var zb bytes.Buffer
			zw := gzip.NewWriter(&zb)
			_, _ = zw.Write(body)
			_ = zw.Close()
			sent = zb.Bytes()
		}
		req := httptest.NewRequest(http.MethodPost, path+"?"+q.Encode(), bytes.NewReader(sent))
		switch mode % writeModes {
		case writeGzip, writeFalseGzip:
			req.Header.Set("Content-Encoding", "gzip")
		case writeBadEncode:
			req.Header.Set("Content-Encoding", "br")
		}
		code, out := srv.do(t, req)

		if mode%writeModes == writeBadEncode {
			if code != http.StatusUnsupportedMediaType && code != http.StatusBadRequest {
				t.Fatalf("Content-Encoding br answered %d: %s", code, clip(out))
			}
			return
		}
		prec, perr := engine.ParsePrecision(precision)
		if perr != nil {
			if code != http.StatusBadRequest {
				t.Fatalf("precision %q answered %d: %s", precision, code, clip(out))
			}
			return
		}
		if mode%writeModes == writeFalseGzip {
			// A plain body labelled gzip is refused; only a body that
			// happens to be gzip could pass.
			if code != http.StatusBadRequest && !bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
				t.Fatalf("a plain body labelled gzip answered %d: %s", code, clip(out))
			}
			return
		}
		_, _, err := engine.ParseLineProtocol(bytes.NewReader(body), prec, fuzzNow)
		var pe *engine.ParseError
		switch {
		case errors.As(err, &pe):
			if code != http.StatusBadRequest {
				t.Fatalf("a batch the parser rejects (%v) answered %d: %s", err, code, clip(out))
			}
			var p struct {
				Lines         []engine.LineError `json:"lines"`
				RejectedLines int                `json:"rejected_lines"`
			}
			if err := json.Unmarshal(out, &p); err != nil || p.RejectedLines != pe.Total || len(p.Lines) != len(pe.Lines) {
				t.Fatalf("rejected batch: problem %s, parser %+v", clip(out), pe)
			}
		case err != nil:
			t.Fatalf("parser error %T %v", err, err)
		case code == http.StatusNoContent:
			if len(out) != 0 {
				t.Fatalf("204 with a body: %s", clip(out))
			}
		case code == http.StatusBadRequest:
			// The store refused a point for what it holds (a time outside
			// its window, a reserved tag key): the client's data, named
			// by its line, never a retryable 503.
			var p struct {
				Code          string             `json:"code"`
				Lines         []engine.LineError `json:"lines"`
				RejectedLines int                `json:"rejected_lines"`
			}
			lines := int64(bytes.Count(body, []byte{'\n'}) + 1)
			if err := json.Unmarshal(out, &p); err != nil || p.Code != "invalid" || p.RejectedLines != 1 || len(p.Lines) != 1 ||
				p.Lines[0].Line < 1 || p.Lines[0].Line > lines || p.Lines[0].Reason == "" {
				t.Fatalf("store refusal: problem %s, want one line of the %d-line input", clip(out), lines)
			}
		case code == http.StatusConflict:
			// Values differing from stored ones at the same times (earlier
			// fuzz inputs wrote them): not retryable either.
		default:
			t.Fatalf("a batch the parser accepts answered %d: %s", code, clip(out))
		}
	})
}
