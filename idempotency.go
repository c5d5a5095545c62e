package dsar

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// The Idempotency-Key of the API: a client that sends a key with a call
// that changes something may send the same call again (after a timeout, a
// lost connection) and get the first call's answer instead of a second
// change.

// IdempotencyTTL is how long the answer of a call with an Idempotency-Key
// is kept and replayed; after it the key is free again and the answer
// (which may hold personal data) is deleted.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyClaimTimeout is how long a call holds its key while it runs:
// far longer than any call takes (the server's write timeout is a minute),
// so that only a call whose process died without answering loses it.
const IdempotencyClaimTimeout = 5 * time.Minute

// MaxIdempotencyKeyLength is the longest Idempotency-Key accepted.
const MaxIdempotencyKeyLength = 255

// MaxIdempotentBody is the largest request body a call with an
// Idempotency-Key may have (it is read whole to be hashed before the call
// runs), and the largest answer body kept for replay: larger answers are
// not kept and their key is given up, as after a failure.
const MaxIdempotentBody = 1 << 20

// CheckIdempotencyKey returns nil for a key of 1 to 255 printable ASCII
// characters (space to tilde), else an EINVALID error.
func CheckIdempotencyKey(key string) error {
	ok := len(key) >= 1 && len(key) <= MaxIdempotencyKeyLength
	for i := 0; ok && i < len(key); i++ {
		ok = key[i] >= 0x20 && key[i] <= 0x7e
	}
	if !ok {
		return &Error{Code: EINVALID, Message: "error.idempotency.key", Params: map[string]any{"max": MaxIdempotencyKeyLength}}
	}
	return nil
}

// IdempotencyID names the record of a key: the key is the caller's own, for
// one method and path, so that two callers' keys, or one caller's key on
// two paths, never meet.
func IdempotencyID(actorID, method, path, key string) string {
	return hashParts(actorID, method, path, key)
}

// IdempotencyHash is the fingerprint of a call's body and its content type:
// the same key with another fingerprint is another call.
func IdempotencyHash(contentType string, body []byte) string {
	return hashParts(contentType, string(body))
}

func hashParts(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// IdempotentAnswer is the stored answer of a call: its status, the headers
// that matter to a client (Content-Type, Content-Language of a problem,
// Location) and its body.
type IdempotentAnswer struct {
	Status          int
	ContentType     string
	ContentLanguage string
	Location        string
	Body            []byte
}

// Keep reports whether the answer is kept for replay: not an answer of
// the service's failure (5xx), after which the client should try again and
// the call run again, and not an answer too large to keep.
func (a *IdempotentAnswer) Keep() bool {
	return a.Status > 0 && a.Status < 500 && len(a.Body) <= MaxIdempotentBody
}

// IdempotencyRecord is what is recorded of a key: the fingerprint of the
// call that claimed it, its answer once it has one (nil while it runs), and
// when the record lapses.
type IdempotencyRecord struct {
	RequestHash string
	Answer      *IdempotentAnswer
	ExpiresAt   time.Time
}

// Replay decides what a call with the fingerprint hash gets at now when
// its key is recorded: the recorded answer, or an error — EUNPROCESSABLE
// for another call under the same key, ECONFLICT while the first call
// runs. free is true when the record has lapsed: the key may be claimed
// anew.
func (r *IdempotencyRecord) Replay(hash string, now time.Time) (answer *IdempotentAnswer, free bool, err error) {
	switch {
	case !now.Before(r.ExpiresAt):
		return nil, true, nil
	case r.RequestHash != hash:
		return nil, false, &Error{Code: EUNPROCESSABLE, Message: "error.idempotency.mismatch"}
	case r.Answer == nil:
		return nil, false, &Error{Code: ECONFLICT, Message: "error.idempotency.running"}
	}
	return r.Answer, false, nil
}

// Idempotency records the keys of calls and their answers.
type Idempotency interface {
	// Claim claims the key id for a call with the fingerprint hash. It
	// returns a claim token when the call is the key's first (or the key's
	// record has lapsed) and may run; else the recorded answer to replay,
	// or the error of IdempotencyRecord.Replay. Claiming is atomic: of
	// calls that race for one key, one gets the claim.
	Claim(ctx context.Context, id, hash string) (claim string, replay *IdempotentAnswer, err error)
	// Finish records the answer of the claimed call for IdempotencyTTL
	// when it is to be kept, and gives the key up otherwise.
	Finish(ctx context.Context, id, claim string, answer *IdempotentAnswer) error
}
