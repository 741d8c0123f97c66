package notify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxResponseBody is how much of an answer Deliver reads.
const maxResponseBody = 64 << 10

// Result is the outcome of one delivery attempt.
type Result struct {
	// Status is the HTTP status code, 0 when no answer arrived.
	Status int
	// Retryable tells whether another attempt may succeed (only meaningful when Err != nil).
	Retryable bool
	// RetryAfter is the wait the receiver asked for (Retry-After header), 0 if none.
	RetryAfter time.Duration
	// Err is nil on success.
	Err error
	// Duration is how long the attempt took.
	Duration time.Duration
}

// OK reports whether the delivery succeeded.
func (r Result) OK() bool { return r.Err == nil }

// Error turns the result into what a queue worker returns: nil on success,
// a *PermanentError when retrying cannot help (cancel the job), otherwise a
// *RetryableError (let the queue retry it, not before RetryAfter).
func (r Result) Error() error {
	if r.Err == nil {
		return nil
	}
	if !r.Retryable {
		return &PermanentError{Status: r.Status, Err: r.Err}
	}
	return &RetryableError{Status: r.Status, RetryAfter: r.RetryAfter, Err: r.Err}
}

// PermanentError is a delivery failure another attempt cannot fix: a 4xx
// other than 408 and 429, a chat platform's non-rate-limit error code, a
// request that cannot be built, a TLS certificate the client rejects.
type PermanentError struct {
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Err is the underlying failure.
	Err error
}

// Error describes the failure.
func (e *PermanentError) Error() string {
	return "permanent delivery failure: " + e.Err.Error()
}

// Unwrap returns the underlying failure.
func (e *PermanentError) Unwrap() error { return e.Err }

// RetryableError is a delivery failure that may pass later: a network error
// or timeout, 408, 429, 5xx, or a chat platform's rate-limit/busy code.
type RetryableError struct {
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// RetryAfter is the receiver's Retry-After, 0 if none; wait at least this long.
	RetryAfter time.Duration
	// Err is the underlying failure.
	Err error
}

// Error describes the failure.
func (e *RetryableError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("retryable delivery failure (retry after %s): %v", e.RetryAfter, e.Err)
	}
	return "retryable delivery failure: " + e.Err.Error()
}

// Unwrap returns the underlying failure.
func (e *RetryableError) Unwrap() error { return e.Err }

// IsPermanent reports whether err (or an error it wraps) is a *PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Deliver sends req once and classifies the answer:
//
//   - 2xx: success, unless a chat platform answers with an error in the
//     body (see below);
//   - 408, 429, 5xx: retryable, honouring a Retry-After header (seconds or
//     an HTTP date);
//   - other statuses (4xx, unfollowed 3xx, 1xx): permanent;
//   - transport errors and the per-request timeout (req.Timeout, else
//     DefaultTimeout): retryable, except an invalid request or a rejected
//     TLS certificate, which are permanent.
//
// Chat platforms answer HTTP 200 with an error code in the JSON body:
//
//   - DingTalk: errcode != 0 fails; 130101 (sending too fast: over 20
//     messages a minute) and -1 (system busy) are retryable;
//   - WeCom: errcode != 0 fails; 45009 (API frequency limit) and -1
//     (system busy) are retryable;
//   - Feishu/Lark: code (or the older StatusCode) != 0 fails; 9499 and 11232
//     (frequency limits) are retryable;
//   - Slack: a 200 answer whose body is not "ok" fails permanently (Slack
//     signals rate limits with 429 and Retry-After).
//
// All other codes (bad signature, keyword mismatch, invalid token, bad
// payload) are permanent. client may be nil (http.DefaultClient).
func Deliver(ctx context.Context, client *http.Client, req Request) Result {
	if client == nil {
		client = http.DefaultClient
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	hr, err := http.NewRequestWithContext(ctx, method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		return Result{Err: fmt.Errorf("build request: %w", err)}
	}
	for k, v := range req.Headers {
		hr.Header[k] = slices.Clone(v)
	}
	resp, err := client.Do(hr)
	if err != nil {
		res := Result{Err: err, Retryable: true, Duration: time.Since(start)}
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			res.Err = fmt.Errorf("no answer within %s: %w", timeout, err)
		}
		var unknownCA x509.UnknownAuthorityError
		var hostErr x509.HostnameError
		var certErr *x509.CertificateInvalidError
		if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &certErr) {
			res.Retryable = false
		}
		return res
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBody)) // let the connection be reused
	res := Result{Status: resp.StatusCode, Duration: time.Since(start)}

	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		res.Err, res.Retryable = platformError(req.Format, body)
	case s == http.StatusRequestTimeout || s == http.StatusTooManyRequests || s >= 500:
		res.Err = fmt.Errorf("HTTP %d: %s", s, snippet(body))
		res.Retryable = true
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	default:
		res.Err = fmt.Errorf("HTTP %d: %s", s, snippet(body))
	}
	return res
}

// Rate-limit and busy codes of the chat platforms, retryable when they
// arrive in an HTTP 200 body.
var (
	dingTalkRetryCodes = []int64{-1, 130101}
	weComRetryCodes    = []int64{-1, 45009}
	feishuRetryCodes   = []int64{9499, 11232}
)

// platformError reads a chat platform's 2xx body; it returns nil for success.
func platformError(f Format, body []byte) (error, bool) {
	switch f {
	case FormatDingTalk, FormatWeCom:
		var r struct {
			ErrCode *int64 `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.ErrCode == nil {
			return fmt.Errorf("%s: unexpected answer: %s", f, snippet(body)), false
		}
		if *r.ErrCode == 0 {
			return nil, false
		}
		codes := dingTalkRetryCodes
		if f == FormatWeCom {
			codes = weComRetryCodes
		}
		return fmt.Errorf("%s errcode %d: %s", f, *r.ErrCode, r.ErrMsg), slices.Contains(codes, *r.ErrCode)
	case FormatFeishu:
		var r struct {
			Code          *int64 `json:"code"`
			Msg           string `json:"msg"`
			StatusCode    *int64 `json:"StatusCode"`
			StatusMessage string `json:"StatusMessage"`
		}
		if err := json.Unmarshal(body, &r); err != nil || (r.Code == nil && r.StatusCode == nil) {
			return fmt.Errorf("feishu: unexpected answer: %s", snippet(body)), false
		}
		code, msg := r.StatusCode, r.StatusMessage
		if r.Code != nil {
			code, msg = r.Code, r.Msg
		}
		if *code == 0 {
			return nil, false
		}
		return fmt.Errorf("feishu code %d: %s", *code, msg), slices.Contains(feishuRetryCodes, *code)
	case FormatSlack:
		if strings.TrimSpace(string(body)) == "ok" {
			return nil, false
		}
		return fmt.Errorf("slack: answer %q instead of \"ok\"", snippet(body)), false
	}
	return nil, false
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = truncateBytes(s, 200)
	}
	return s
}

// parseRetryAfter reads a Retry-After value: delay seconds or an HTTP date.
// It returns 0 for a missing, malformed or past value.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		if n > math.MaxInt64/int64(time.Second) {
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Backoff is the wait before retry number attempt (1 for the first retry):
// exponential with full jitter, a uniformly random duration in
// [0, min(max, base·2^(attempt-1))]. rnd makes it deterministic in tests;
// nil uses the global source. Attempts below 1 count as 1.
func Backoff(attempt int, base, max time.Duration, rnd *rand.Rand) time.Duration {
	if base <= 0 || max <= 0 {
		return 0
	}
	if attempt < 1 {
		attempt = 1
	}
	ceiling := max
	if shift := attempt - 1; shift < 62 {
		if d := base << shift; d > 0 && d>>shift == base && d < max {
			ceiling = d
		}
	}
	if rnd == nil {
		return rand.N(ceiling + 1)
	}
	return time.Duration(rnd.Int64N(int64(ceiling) + 1))
}

// RetryDelay is the wait before retry number attempt after result r: the
// Backoff, but never shorter than the receiver's Retry-After.
func RetryDelay(r Result, attempt int, base, max time.Duration, rnd *rand.Rand) time.Duration {
	return RetryDelayFor(r.RetryAfter, attempt, base, max, rnd)
}

// RetryDelayFor is RetryDelay for a Retry-After already taken from an error
// (e.g. a *RetryableError).
func RetryDelayFor(retryAfter time.Duration, attempt int, base, max time.Duration, rnd *rand.Rand) time.Duration {
	d := Backoff(attempt, base, max, rnd)
	if retryAfter > d {
		return retryAfter
	}
	return d
}

// Expired reports whether a delivery first attempted at firstAttempt is
// older than maxAge at now and should go to the dead letters instead of
// being retried. maxAge <= 0 means deliveries never expire.
func Expired(firstAttempt, now time.Time, maxAge time.Duration) bool {
	if maxAge <= 0 {
		return false
	}
	return now.Sub(firstAttempt) >= maxAge
}
