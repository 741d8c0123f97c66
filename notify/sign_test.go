package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"
	"time"
)

// The pinned literals below were computed once outside Go (Python's hmac
// module) from the platforms' documented algorithms; the tests also
// recompute them with crypto/hmac, written out step by step.

func TestGenericSignatureVector(t *testing.T) {
	const secret, ts, body = "whsec-test", "1763625600", `{"a":1}`
	const pinned = "sha256=8d73a767929ce9446ee36ccf5888552b3e1e8146a37a32ef16efaed33bc97ee3"

	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + body))
	if got := "sha256=" + hex.EncodeToString(m.Sum(nil)); got != pinned {
		t.Fatalf("independent recomputation %s != pinned %s", got, pinned)
	}
	if got := Sign(secret, ts, []byte(body)); got != pinned {
		t.Fatalf("Sign = %s, want %s", got, pinned)
	}
	// One byte changed anywhere changes the signature.
	for name, s := range map[string]string{
		"body":      Sign(secret, ts, []byte(`{"a":2}`)),
		"timestamp": Sign(secret, "1763625601", []byte(body)),
		"secret":    Sign("whsec-tesT", ts, []byte(body)),
	} {
		if s == pinned {
			t.Errorf("changing the %s did not change the signature", name)
		}
	}
}

func TestVerify(t *testing.T) {
	now := time.Unix(1763625600, 0)
	body := []byte(`{"event":"ticket.opened"}`)
	sig := Sign("k", "1763625600", body)
	if err := Verify("k", "1763625600", sig, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatalf("fresh valid signature rejected: %v", err)
	}
	if err := Verify("k", "1763625600", sig, []byte(`{"event":"ticket.closed"}`), now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("tampered body: err = %v", err)
	}
	if err := Verify("k", "1763625601", sig, body, now, 5*time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed timestamp: err = %v", err)
	}
	if err := Verify("k", "1763625600", sig, body, now.Add(time.Hour), 5*time.Minute); err == nil {
		t.Fatal("replay an hour later accepted")
	}
	if err := Verify("k", "1763625600", sig, body, now.Add(time.Hour), 0); err != nil {
		t.Fatalf("tolerance 0 should skip the freshness check: %v", err)
	}
}

func TestDingTalkSignatureVector(t *testing.T) {
	const secret = "SEC000test-secret"
	const ms int64 = 1763625600000
	const pinned = "mWtd9E6xRF1S2UuUfBcKL9D+raHdTly0DSrWUqg4Igo="
	const pinnedEscaped = "mWtd9E6xRF1S2UuUfBcKL9D%2BraHdTly0DSrWUqg4Igo%3D"

	// Documented: string_to_sign = timestamp + "\n" + secret; HMAC-SHA256 keyed by the secret; Base64; URL-encode.
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("1763625600000\n" + secret))
	if got := base64.StdEncoding.EncodeToString(m.Sum(nil)); got != pinned {
		t.Fatalf("independent recomputation %s != pinned %s", got, pinned)
	}
	if got := DingTalkSign(secret, ms); got != pinned {
		t.Fatalf("DingTalkSign = %s, want %s", got, pinned)
	}
	if DingTalkSign(secret, ms+1) == pinned || DingTalkSign("SEC000test-secreT", ms) == pinned {
		t.Fatal("changing one byte of timestamp or secret did not change the signature")
	}

	u, err := dingTalkSignedURL("https://robot.example/robot/send?access_token=tok123", secret, time.UnixMilli(ms))
	if err != nil {
		t.Fatal(err)
	}
	want := "https://robot.example/robot/send?access_token=tok123&timestamp=1763625600000&sign=" + pinnedEscaped
	if u != want {
		t.Fatalf("signed URL\n got %s\nwant %s", u, want)
	}
	pu, _ := url.Parse(u)
	if q := pu.Query(); q.Get("sign") != pinned || q.Get("access_token") != "tok123" {
		t.Fatalf("query does not decode back: %v", q)
	}
}

func TestFeishuSignatureVector(t *testing.T) {
	const secret = "feishu-test-secret"
	const ts int64 = 1763625600
	const pinned = "giaaEuPhIOOuwgG//ZzrAPLl2YMVnqx53Sq2jxsJkbM="

	// Documented: string_to_sign = timestamp + "\n" + secret is the HMAC-SHA256 KEY; the message is empty; Base64.
	m := hmac.New(sha256.New, []byte("1763625600\n"+secret))
	if got := base64.StdEncoding.EncodeToString(m.Sum(nil)); got != pinned {
		t.Fatalf("independent recomputation %s != pinned %s", got, pinned)
	}
	if got := FeishuSign(secret, ts); got != pinned {
		t.Fatalf("FeishuSign = %s, want %s", got, pinned)
	}
	if FeishuSign(secret, ts+1) == pinned || FeishuSign("feishu-test-secreT", ts) == pinned {
		t.Fatal("changing one byte of timestamp or secret did not change the signature")
	}
	// Not the DingTalk construction (secret as key, string as message).
	if FeishuSign(secret, ts) == DingTalkSign(secret, ts) {
		t.Fatal("Feishu and DingTalk signatures must differ")
	}
}
