package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// The audit trail of each case is a hash chain: each event carries its
// position in the case's trail (seq, 1, 2, 3, … without gaps), the hash of
// the case's event before it (dsar.AuditGenesis for the first) and its own
// hash, dsar.EventHash. The hashes are computed here, before the insert, so
// that the table stays append-only. The request row holds the seq and hash
// of its last event (audit_seq, audit_hash), so that deleting a case's last
// events shows as well.
//
// Appending locks the case's row, which every change of the case holds
// anyway: writers to different cases never wait for each other, and a new
// case's first events are chained in the statement that creates it.

// chainRows links rows (all of one case) after (seq, hash) and returns the
// new end of the chain.
func chainRows(seq int64, hash string, rows []*eventRow) (int64, string) {
	if hash == "" {
		hash = dsar.AuditGenesis
	}
	for _, r := range rows {
		seq++
		prev := hash
		// The hash is over the row as it will be read back: UTC to the
		// microsecond, data as decoded from its JSON.
		hash = dsar.EventHash(prev, r.toDomain(), seq)
		s, p, h := seq, prev, hash
		r.Seq, r.PrevHash, r.Hash = &s, &p, &h
	}
	return seq, hash
}

// eventRows converts events to rows.
func eventRows(evs []*dsar.Event) ([]*eventRow, error) {
	rows := make([]*eventRow, len(evs))
	for i, ev := range evs {
		r, err := newEventRow(ev)
		if err != nil {
			return nil, err
		}
		rows[i] = r
	}
	return rows, nil
}

// chainOnRow links events of the locked row's case after the row's end of
// chain and moves the row's end, in memory: the caller's save of the row
// writes it, and the caller inserts the rows. It links none (nil) when
// there are none, or when one is another case's.
func chainOnRow(row *requestRow, evs []*dsar.Event) ([]*eventRow, error) {
	if len(evs) == 0 {
		return nil, nil
	}
	for _, ev := range evs {
		if ev.RequestID != row.ID {
			return nil, nil
		}
	}
	rows, err := eventRows(evs)
	if err != nil {
		return nil, err
	}
	row.AuditSeq, row.AuditHash = chainRows(row.AuditSeq, row.AuditHash, rows)
	return rows, nil
}

// appendEvents appends events of one case to its chain on tx: it locks the
// case's row (Postgres; an SQLite write transaction holds the database),
// links the events after the case's last one, inserts them and moves the
// case's end of chain.
func (db *DB) appendEvents(tx *gorm.DB, row *requestRow, evs ...*dsar.Event) error {
	if len(evs) == 0 {
		return nil
	}
	id := evs[0].RequestID
	if row == nil || row.ID != id {
		row = &requestRow{ID: id}
		if err := db.forUpdate(tx.Model(&requestRow{})).Select("audit_seq, audit_hash").Where("id = ?", id).Take(row).Error; err != nil {
			return fmt.Errorf("read the end of the audit chain: %w", err)
		}
	} // else the caller holds the row locked, and a later Save of it in this transaction keeps the chain's end
	rows, err := chainOnRow(row, evs)
	if err != nil {
		return err
	}
	if rows == nil {
		return fmt.Errorf("appendEvents: events of more than one case (%s, …)", id)
	}
	if err := tx.Create(rows).Error; err != nil {
		return err
	}
	return tx.Model(&requestRow{}).Where("id = ?", id).UpdateColumns(map[string]any{"audit_seq": row.AuditSeq, "audit_hash": row.AuditHash}).Error
}

// AuditProblem is one finding of VerifyAudit.
type AuditProblem struct {
	// ID and Seq name the event row the problem was found at (ID 0 for a
	// problem of the chain's end).
	ID  int64
	Seq int64
	// Kind is "changed" (the row does not match its hash), "gap" (seqs are
	// missing before the row: events were deleted), "link" (the row does not
	// point to the hash of the event before it), "unchained" (a row without
	// a place in the chain, written after the chain began) or "head" (the
	// chain does not end where its case records: events were deleted at the
	// end, or the record was changed) or "checkpoint" (cases counted by the
	// last checkpoint are gone or differ: a case was deleted whole).
	Kind    string
	Message string
}

func (p AuditProblem) String() string { return p.Message }

// AuditReport is the result of VerifyAudit.
type AuditReport struct {
	// Events is the number of chained events checked.
	Events int64
	// PreChain is the number of events written before the chain began
	// (before migration 00005): they carry no hash and are not covered.
	PreChain int64
	// Checkpoint is when the last checkpoint of the cases was recorded (nil
	// when none was): the cases created an hour before it and earlier are
	// checked to be all there.
	Checkpoint *time.Time
	// Problems lists the first MaxAuditProblems problems in chain order;
	// ProblemCount counts them all.
	Problems     []AuditProblem
	ProblemCount int
}

// Intact reports whether the chain showed no problem.
func (r *AuditReport) Intact() bool { return r.ProblemCount == 0 }

func (r *AuditReport) add(p AuditProblem) {
	r.ProblemCount++
	if len(r.Problems) < MaxAuditProblems {
		r.Problems = append(r.Problems, p)
	}
}

// MaxAuditProblems is how many problems an AuditReport lists.
const MaxAuditProblems = 100

// auditBatch is how many events VerifyAudit reads at a time.
const auditBatch = 1000

// VerifyAudit recomputes the chain of every case: each event's hash from
// its fields, its link to the case's event before it, the seqs without gaps
// from 1, and the end of the chain against the case's audit_seq and
// audit_hash. Cases are read in batches, each with its events in one query;
// it takes no lock, and events appended meanwhile to a case already read do
// not disturb it.
func (db *DB) VerifyAudit(ctx context.Context) (*AuditReport, error) {
	g := db.gorm.WithContext(ctx)
	rep := &AuditReport{}
	after := ""
	for {
		var heads []struct {
			ID        string
			AuditSeq  int64
			AuditHash string
		}
		if err := g.Model(&requestRow{}).Select("id, audit_seq, audit_hash").Where("id > ?", after).
			Order("id").Limit(auditBatch).Find(&heads).Error; err != nil {
			return nil, err
		}
		if len(heads) == 0 {
			break
		}
		ids := make([]string, len(heads))
		for i, h := range heads {
			ids[i] = h.ID
		}
		var rows []eventRow
		if err := g.Where("request_id IN ?", ids).Order("request_id, id").Find(&rows).Error; err != nil {
			return nil, err
		}
		byCase := map[string][]*eventRow{}
		for i := range rows {
			byCase[rows[i].RequestID] = append(byCase[rows[i].RequestID], &rows[i])
		}
		for _, h := range heads {
			db.verifyCase(rep, h.ID, h.AuditSeq, h.AuditHash, byCase[h.ID])
		}
		after = heads[len(heads)-1].ID
	}
	if err := db.verifyAdmin(ctx, rep); err != nil {
		return nil, err
	}
	if err := db.verifyCheckpoint(ctx, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// verifyCase checks one case's chain.
func (db *DB) verifyCase(rep *AuditReport, id string, headSeq int64, headHash string, rows []*eventRow) {
	lastSeq, lastHash := int64(0), dsar.AuditGenesis
	// before are the case's chained events read so far; unsealed the
	// redacted ones no removal's seal has covered yet.
	var before, unsealed []*dsar.Event
	for _, r := range rows {
		if r.Seq == nil {
			if lastSeq == 0 {
				rep.PreChain++ // written before the chain began
			} else {
				rep.add(AuditProblem{ID: r.ID, Kind: "unchained", Message: fmt.Sprintf(
					"event %d of case %s has no seq or hash but was written after its chain began", r.ID, id)})
			}
			continue
		}
		seq, prev, hash := *r.Seq, deref(r.PrevHash), deref(r.Hash)
		rep.Events++
		switch {
		case seq != lastSeq+1:
			rep.add(AuditProblem{ID: r.ID, Seq: seq, Kind: "gap", Message: fmt.Sprintf(
				"event %d (case %s, seq %d): seq %d to %d are missing before it: events were deleted", r.ID, id, seq, lastSeq+1, seq-1)})
		case prev != lastHash:
			rep.add(AuditProblem{ID: r.ID, Seq: seq, Kind: "link", Message: fmt.Sprintf(
				"event %d (case %s, seq %d): its prev_hash %s is not the hash %s of the event before it", r.ID, id, seq, short(prev), short(lastHash))})
		}
		ev := r.toDomain()
		if r.Redacted {
			// Its personal data was removed: the seal of the removal's
			// event, further on, vouches for what is left of it.
			unsealed = append(unsealed, ev)
		} else if want := dsar.EventHash(prev, ev, seq); hash != want {
			rep.add(AuditProblem{ID: r.ID, Seq: seq, Kind: "changed", Message: fmt.Sprintf(
				"event %d (case %s, seq %d): its fields do not match its hash: the row was changed", r.ID, id, seq)})
		}
		if seal, ok := ev.Data["audit_seal"]; ok && ev.Kind == dsar.EventPersonalDataRemoved && !r.Redacted {
			if dsar.AuditSeal(before) != seal {
				rep.add(AuditProblem{ID: r.ID, Seq: seq, Kind: "changed", Message: fmt.Sprintf(
					"event %d (case %s, seq %d): the events before it do not match its seal: a redacted row was changed", r.ID, id, seq)})
			}
			unsealed = nil
		}
		before = append(before, ev)
		lastSeq, lastHash = seq, hash
	}
	for _, ev := range unsealed {
		rep.add(AuditProblem{ID: ev.ID, Seq: ev.Seq, Kind: "changed", Message: fmt.Sprintf(
			"event %d (case %s, seq %d): it is marked redacted but no removal's seal covers it: the row was changed", ev.ID, id, ev.Seq)})
	}
	if headSeq == 0 && lastSeq == 0 {
		return // a case with no chained event
	}
	switch {
	case lastSeq != headSeq:
		rep.add(AuditProblem{Seq: lastSeq, Kind: "head", Message: fmt.Sprintf(
			"case %s: its chain ends at seq %d but the case records seq %d: the last events were deleted", id, lastSeq, headSeq)})
	case lastHash != headHash:
		rep.add(AuditProblem{Seq: lastSeq, Kind: "head", Message: fmt.Sprintf(
			"case %s: its last event (seq %d) has hash %s but the case records %s", id, lastSeq, short(lastHash), short(headHash))})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// short abbreviates a hash for a message.
func short(h string) string {
	if h == "" {
		return "(none)"
	}
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}
