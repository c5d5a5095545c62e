package dsar

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a message signed in the Standard Webhooks format
// (https://www.standardwebhooks.com; docs/connectors.md shows a worked
// example): the message's ID, its time in Unix seconds, and one or more
// space-separated signatures "v1,<base64 HMAC-SHA256>".
const (
	HeaderWebhookID        = "webhook-id"
	HeaderWebhookTimestamp = "webhook-timestamp"
	HeaderWebhookSignature = "webhook-signature"
)

// WebhookTolerance is how far a signed message's timestamp may lie from the
// receiver's clock, either way: an older message is refused as a replay.
const WebhookTolerance = 5 * time.Minute

// webhookSecretPrefix starts every Standard Webhooks secret.
const webhookSecretPrefix = "whsec_"

// The reasons a signed message is refused.
var (
	ErrWebhookHeaders   = errors.New("webhook: the webhook-id, webhook-timestamp or webhook-signature header is missing or malformed")
	ErrWebhookSignature = errors.New("webhook: no signature matches")
	ErrWebhookTimestamp = errors.New("webhook: the timestamp is outside the tolerance")
)

// WebhookSecret is the signing key of a Standard Webhooks secret.
type WebhookSecret struct{ key []byte }

// ParseWebhookSecret reads a secret "whsec_<base64 of the key>".
func ParseWebhookSecret(s string) (WebhookSecret, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), webhookSecretPrefix)
	if !ok {
		return WebhookSecret{}, errors.New("webhook secret: must start with whsec_")
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return WebhookSecret{}, errors.New("webhook secret: the part after whsec_ is not base64")
	}
	if len(key) < 16 {
		return WebhookSecret{}, errors.New("webhook secret: the key must be at least 16 bytes (24 base64 characters)")
	}
	return WebhookSecret{key: key}, nil
}

// NewWebhookSecret returns a new random secret of 32 bytes, as text.
func NewWebhookSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand never fails
	return webhookSecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Sign returns the signature "v1,<base64>" of the message: HMAC-SHA256 of
// id + "." + Unix seconds + "." + body.
func (s WebhookSecret) Sign(id string, at time.Time, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(s.mac(id, at.Unix(), body))
}

func (s WebhookSecret) mac(id string, unix int64, body []byte) []byte {
	h := s.macOf(id, unix)
	h.Write(body)
	return h.Sum(nil)
}

// macOf returns the HMAC of a message with its ID and time written, ready
// for the body.
func (s WebhookSecret) macOf(id string, unix int64) hash.Hash {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(strconv.FormatInt(unix, 10)))
	h.Write([]byte{'.'})
	return h
}

// BodySigner signs a body too large to hold: write the body to it, in
// pieces, then ask for the Signature, which equals Sign's over the whole
// body.
type BodySigner struct{ h hash.Hash }

// Signer returns a BodySigner of the message with the ID at the time.
func (s WebhookSecret) Signer(id string, at time.Time) *BodySigner {
	return &BodySigner{h: s.macOf(id, at.Unix())}
}

// Write adds a piece of the body; it never fails.
func (b *BodySigner) Write(p []byte) (int, error) { return b.h.Write(p) }

// Signature returns the signature "v1,<base64>" of the body written.
func (b *BodySigner) Signature() string {
	return "v1," + base64.StdEncoding.EncodeToString(b.h.Sum(nil))
}

// SignHeaders sets the three headers of a signed message on h.
func (s WebhookSecret) SignHeaders(h http.Header, id string, at time.Time, body []byte) {
	h.Set(HeaderWebhookID, id)
	h.Set(HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	h.Set(HeaderWebhookSignature, s.Sign(id, at, body))
}

// Verify checks a signed message's headers against its body at the time
// now: one of the space-separated v1 signatures must match (compared in
// constant time) and the timestamp must lie within WebhookTolerance of now.
// It returns the message's ID, which the receiver keeps to refuse a replay.
func (s WebhookSecret) Verify(h http.Header, body []byte, now time.Time) (string, error) {
	id, ts, sigs := h.Get(HeaderWebhookID), h.Get(HeaderWebhookTimestamp), h.Get(HeaderWebhookSignature)
	if id == "" || ts == "" || sigs == "" || len(id) > 200 {
		return "", ErrWebhookHeaders
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return "", ErrWebhookHeaders
	}
	want := s.mac(id, unix, body)
	match := false
	for _, sig := range strings.Fields(sigs) {
		version, b64, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			match = true
		}
	}
	if !match {
		return "", ErrWebhookSignature
	}
	if d := now.Sub(time.Unix(unix, 0)); d > WebhookTolerance || d < -WebhookTolerance {
		return "", ErrWebhookTimestamp
	}
	return id, nil
}

// RetryAfter reads a Retry-After header (delay seconds or an HTTP date,
// RFC 9110 section 10.2.3) as a wait from now: 0 when there is none, it
// is malformed or it has passed. What a wait may come to is the domain's
// to decide (RetryAfterCap for tasks, WebhookMaxRetryAfter for webhooks).
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		const most = int64(1<<63-1) / int64(time.Second)
		return time.Duration(min(max(secs, 0), most)) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(at.Sub(now), 0)
	}
	return 0
}
