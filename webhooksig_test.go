package dsar_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/dsar-project/dsar"
)

// TestWebhookSignatureAgreesWithTheStandardLibrary checks our signing and
// verification against the official Go library of Standard Webhooks: each
// verifies what the other signs, and a tampered body or an old timestamp
// is refused by ours.
func TestWebhookSignatureAgreesWithTheStandardLibrary(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("a test key of thirty-two bytes!!"))
	ours, err := dsar.ParseWebhookSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"dsar.task","task_id":"t1","action":"erase"}`)
	now := time.Now() // the official library verifies against the real clock

	// Ours signs, theirs verifies.
	h := http.Header{}
	ours.SignHeaders(h, "t1-1-1", now, body)
	if err := theirs.Verify(body, h); err != nil {
		t.Errorf("the official library refuses our signature: %v", err)
	}
	if err := theirs.Verify([]byte(`{"tampered":true}`), h); err == nil {
		t.Error("the official library accepts a tampered body under our signature")
	}

	// Theirs signs, ours verifies; one of several signatures may match.
	sig, err := theirs.Sign("msg_2", now, body)
	if err != nil {
		t.Fatal(err)
	}
	h = http.Header{}
	h.Set(dsar.HeaderWebhookID, "msg_2")
	h.Set(dsar.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(dsar.HeaderWebhookSignature, "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32))+" "+sig)
	if id, err := ours.Verify(h, body, now.Add(4*time.Minute)); err != nil || id != "msg_2" {
		t.Errorf("we refuse the official library's signature: %q, %v", id, err)
	}
	if _, err := ours.Verify(h, []byte(`{"tampered":true}`), now); !errors.Is(err, dsar.ErrWebhookSignature) {
		t.Errorf("tampered body: %v, want ErrWebhookSignature", err)
	}
	for _, at := range []time.Time{now.Add(dsar.WebhookTolerance + time.Second), now.Add(-dsar.WebhookTolerance - time.Second)} {
		if _, err := ours.Verify(h, body, at); !errors.Is(err, dsar.ErrWebhookTimestamp) {
			t.Errorf("verified at %v after signing: %v, want ErrWebhookTimestamp", at.Sub(now), err)
		}
	}
	// An old message re-signed with a fresh timestamp but the old
	// signature does not match.
	h.Set(dsar.HeaderWebhookTimestamp, strconv.FormatInt(now.Add(time.Minute).Unix(), 10))
	if _, err := ours.Verify(h, body, now); !errors.Is(err, dsar.ErrWebhookSignature) {
		t.Errorf("moved timestamp: %v, want ErrWebhookSignature", err)
	}
	// Another key's signature does not match.
	other, _ := dsar.ParseWebhookSecret(dsar.NewWebhookSecret())
	h = http.Header{}
	other.SignHeaders(h, "msg_3", now, body)
	if _, err := ours.Verify(h, body, now); !errors.Is(err, dsar.ErrWebhookSignature) {
		t.Errorf("another key: %v, want ErrWebhookSignature", err)
	}
	if _, err := ours.Verify(http.Header{}, body, now); !errors.Is(err, dsar.ErrWebhookHeaders) {
		t.Errorf("no headers: %v, want ErrWebhookHeaders", err)
	}
}

// TestWebhookSignatureExample is the worked example of docs/connectors.md.
func TestWebhookSignatureExample(t *testing.T) {
	s, err := dsar.ParseWebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := s.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestParseWebhookSecret(t *testing.T) {
	for _, bad := range []string{"", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_c2hvcnQ="} {
		if _, err := dsar.ParseWebhookSecret(bad); err == nil {
			t.Errorf("ParseWebhookSecret(%q) accepted", bad)
		}
	}
	if _, err := dsar.ParseWebhookSecret(dsar.NewWebhookSecret()); err != nil {
		t.Errorf("a new secret does not parse: %v", err)
	}
}

// TestBodySignerSignsInPieces: a body signed as it streams, in pieces of
// any size, has the signature of the whole body.
func TestBodySignerSignsInPieces(t *testing.T) {
	secret, err := dsar.ParseWebhookSecret(dsar.NewWebhookSecret())
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 100_000)
	for i := range body {
		body[i] = byte(i * 7)
	}
	at := time.Unix(1_700_000_000, 0)
	want := secret.Sign("dsar_tx_1_2", at, body)
	for _, piece := range []int{1, 7, 4096, len(body)} {
		s := secret.Signer("dsar_tx_1_2", at)
		for i := 0; i < len(body); i += piece {
			_, _ = s.Write(body[i:min(i+piece, len(body))])
		}
		if got := s.Signature(); got != want {
			t.Errorf("pieces of %d: %s, want %s", piece, got, want)
		}
	}
	if s := secret.Signer("dsar_tx_1_3", at); s.Signature() == secret.Sign("dsar_tx_1_2", at, nil) {
		t.Error("the signature does not cover the ID")
	}
}
