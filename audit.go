package dsar

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
	"time"
)

// AuditGenesis is the PrevHash of the first event of the audit chain.
const AuditGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// auditVersion names the canonical encoding, so that a future change of the
// fields hashed can be told apart.
const auditVersion = "dsar-audit-v1"

// CanonicalEvent returns the bytes EventHash hashes: the event's fields as
// netstrings (the length in decimal, ':', the bytes, ',') in a fixed order,
//
//	version, seq, prev, request_id, at, actor, client_ip, kind, from, to,
//	reason, the number of data entries, then each data key and value in
//	key order
//
// where at is RFC 3339 in UTC with as many fractional digits as needed. The
// lengths make the encoding unambiguous: no two events encode alike. The
// event's ID (assigned by the database), Seq, PrevHash and Hash fields are
// not read: seq and prev are the arguments.
func CanonicalEvent(prev string, ev *Event, seq int64) []byte {
	keys := make([]string, 0, len(ev.Data))
	for k := range ev.Data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	fields := []string{auditVersion, strconv.FormatInt(seq, 10), prev, ev.RequestID,
		ev.At.UTC().Format(time.RFC3339Nano), ev.Actor, ev.ClientIP, string(ev.Kind), string(ev.From), string(ev.To),
		ev.Reason, strconv.Itoa(len(keys))}
	for _, k := range keys {
		fields = append(fields, k, ev.Data[k])
	}
	var b []byte
	for _, f := range fields {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
		b = append(b, ',')
	}
	return b
}

// EventHash returns the hex SHA-256 of the event's canonical encoding at
// position seq of the chain, after the event whose hash is prev.
func EventHash(prev string, ev *Event, seq int64) string {
	sum := sha256.Sum256(CanonicalEvent(prev, ev, seq))
	return hex.EncodeToString(sum[:])
}

// auditFreeText are the Data keys of audit events that hold free text an
// officer typed (the parts of a partial refusal, whom a request went to),
// or the subject or another organisation gave (the organisation a
// portable package was for, its receipt there).
var auditFreeText = []string{"part", "granted", "forwarded_to", "organisation", "receipt"}

// RedactEvent returns the event without its personal data: no client
// address, no reason, no free-text data; the rest (who, when, what, the
// statuses, the facts in Data) stays. ok is false when the event holds
// none, and ev is returned as it is.
func RedactEvent(ev *Event) (out *Event, ok bool) {
	ok = ev.ClientIP != "" || ev.Reason != ""
	for _, k := range auditFreeText {
		_, has := ev.Data[k]
		ok = ok || has
	}
	if !ok {
		return ev, false
	}
	e := *ev
	e.ClientIP, e.Reason, e.Data = "", "", map[string]string{}
	for k, v := range ev.Data {
		if !slices.Contains(auditFreeText, k) {
			e.Data[k] = v
		}
	}
	return &e, true
}

// AuditSeal returns the seal of a case's audit events when their personal
// data is removed: the hex SHA-256 over each chained event's seq, hash and
// canonical encoding as redacted (RedactEvent), in order. The event that
// records the removal carries it in its hashed Data ("audit_seal"), so an
// event redacted before it still verifies (its links, and its remaining
// fields against the seal) though its hash can no longer be recomputed.
// Events written before the chain began are left out, as verification
// leaves them.
func AuditSeal(evs []*Event) string {
	h := sha256.New()
	for _, ev := range evs {
		if ev.Seq == 0 {
			continue
		}
		r, _ := RedactEvent(ev)
		for _, f := range [][]byte{[]byte(strconv.FormatInt(ev.Seq, 10)), []byte(ev.Hash), CanonicalEvent(ev.PrevHash, r, ev.Seq)} {
			h.Write(strconv.AppendInt(nil, int64(len(f)), 10))
			h.Write([]byte{':'})
			h.Write(f)
			h.Write([]byte{','})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
