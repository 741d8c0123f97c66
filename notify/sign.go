package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SignedString is the exact byte string X-Foresight-Signature covers: the
// X-Foresight-Timestamp header value (decimal Unix seconds), a ".", and
// the raw request body.
func SignedString(timestamp string, body []byte) []byte {
	b := make([]byte, 0, len(timestamp)+1+len(body))
	b = append(b, timestamp...)
	b = append(b, '.')
	return append(b, body...)
}

// Sign returns the X-Foresight-Signature value for a body sent at
// timestamp: "sha256=" + lowercase hex of HMAC-SHA256(key = secret,
// message = timestamp + "." + body).
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(SignedString(timestamp, body))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is returned by Verify when the signature does not match.
var ErrBadSignature = errors.New("notify: signature does not match")

// Verify checks a received generic delivery the way a receiver should: the
// signature must match (compared in constant time) and the timestamp must be
// within tolerance of now, so a captured request cannot be replayed later.
// tolerance <= 0 skips the freshness check.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	want := Sign(secret, timestamp, body)
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return ErrBadSignature
	}
	if tolerance > 0 {
		sec, err := strconv.ParseInt(timestamp, 10, 64)
		if err != nil {
			return fmt.Errorf("notify: bad timestamp %q", timestamp)
		}
		if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
			return fmt.Errorf("notify: timestamp %s is %s away from now, beyond %s", timestamp, d.Round(time.Second), tolerance)
		}
	}
	return nil
}

// DingTalkSign is the DingTalk custom robot signature for a timestamp in
// milliseconds: base64(HMAC-SHA256(key = secret, message = timestamp_ms +
// "\n" + secret)), before URL encoding.
func DingTalkSign(secret string, timestampMs int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(timestampMs, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// dingTalkSignedURL appends &timestamp=<ms>&sign=<url-encoded signature> to
// the robot URL, keeping its existing query (access_token) untouched.
func dingTalkSignedURL(raw, secret string, now time.Time) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("notify: dingtalk url: %w", err)
	}
	ms := now.UnixMilli()
	extra := "timestamp=" + strconv.FormatInt(ms, 10) + "&sign=" + url.QueryEscape(DingTalkSign(secret, ms))
	if u.RawQuery == "" {
		u.RawQuery = extra
	} else {
		u.RawQuery = strings.TrimSuffix(u.RawQuery, "&") + "&" + extra
	}
	return u.String(), nil
}

// FeishuSign is the Feishu/Lark custom bot signature for a timestamp in
// seconds: base64(HMAC-SHA256(key = timestamp + "\n" + secret, message =
// empty)). Note the platform's inversion: the string to sign is the key.
func FeishuSign(secret string, timestampSec int64) string {
	m := hmac.New(sha256.New, []byte(strconv.FormatInt(timestampSec, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
