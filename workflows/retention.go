package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows/connector/vendormail"
	dmail "github.com/dsar-project/dsar/workflows/mail"
)

// TypeRetention runs the daily records retention.
const TypeRetention = "retention:run"

// DefaultRetentionBatch is how many cases one records retention pass looks
// at; each case is removed in a transaction of its own.
const DefaultRetentionBatch = 100

// RetentionBudget bounds the time one part of the daily run takes; a
// larger backlog goes on in the next part, queued at once.
const RetentionBudget = 2 * time.Minute

// Retention removes the personal data of the closed cases whose records
// retention has run out (dsar.RetentionDue): the database rows through
// the store, the case's files through Blobs and the kept copies of its
// mails in Mailbox, one case at a time, each in its own transaction.
type Retention struct {
	DB *store.DB
	// Blobs holds the cases' files; nil when none is configured.
	Blobs dsar.Blobs
	// Mailbox is the local mailbox of the embedded default; nil when mail
	// goes out by SMTP and no copy is kept.
	Mailbox *dmail.Mailbox
	Clock   dsar.Clock
	Log     *slog.Logger
	// Batch is how many cases a pass looks at (DefaultRetentionBatch when
	// 0).
	Batch int
}

func (rt *Retention) batch() int {
	if rt.Batch > 0 {
		return rt.Batch
	}
	return DefaultRetentionBatch
}

// hasFiles reports whether the blob store holds a file under prefix.
func (rt *Retention) hasFiles(ctx context.Context, prefix string) (bool, error) {
	if rt.Blobs == nil {
		return false, nil
	}
	err := rt.Blobs.List(ctx, prefix, func(string) error { return io.EOF })
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

// files removes a case's files and the kept copies of its mails.
func (rt *Retention) files(ctx context.Context, rm *dsar.Removal) error {
	if rt.Blobs != nil {
		if err := rt.Blobs.Delete(ctx, rm.BlobPrefix); err != nil {
			return fmt.Errorf("remove the files of case %s: %w", rm.Reference, err)
		}
	}
	if rt.Mailbox == nil {
		return nil
	}
	var prefixes []string
	for _, id := range rm.MailItems {
		prefixes = append(prefixes, mailMessageIDPrefix(id))
	}
	for _, id := range rm.Tasks {
		prefixes = append(prefixes, vendormail.MessageIDPrefix(id))
	}
	for _, p := range prefixes {
		if _, err := rt.Mailbox.RemovePrefix(p); err != nil {
			return fmt.Errorf("remove the mails of case %s: %w", rm.Reference, err)
		}
	}
	return nil
}

// Plan returns what a run now would remove, case by case, removing
// nothing: the dry run.
func (rt *Retention) Plan(ctx context.Context) ([]*dsar.Removal, error) {
	ids, err := rt.DB.RetentionDue(ctx, rt.Clock.Now(), math.MaxInt32)
	if err != nil {
		return nil, err
	}
	var out []*dsar.Removal
	for len(ids) > 0 {
		n := min(len(ids), rt.batch())
		plan, err := rt.DB.RetentionPlan(ctx, ids[:n], rt.hasFiles)
		if err != nil {
			return nil, err
		}
		out, ids = append(out, plan...), ids[n:]
	}
	return out, nil
}

// Run removes what is due, batch by batch, until nothing is due or the
// budget is spent (more is then true). A case that fails is logged (by
// its reference, never its data) and left due for the next run; the
// others go on.
//
// It first deletes the Idempotency-Key records that lapsed, with the
// answers they kept (which may hold personal data): the API deletes them
// too whenever a call claims a key, and this run whatever the traffic.
// Then it deletes the webhook events older than the redelivery window
// with their delivery log, but those still being delivered
// (dsar.WebhookPrunable), within the same budget.
func (rt *Retention) Run(ctx context.Context, budget time.Duration) (removed int, more bool, err error) {
	start := rt.Clock.Now()
	spent := func() bool { return budget > 0 && rt.Clock.Now().Sub(start) >= budget }
	if _, err := rt.DB.PurgeIdempotency(ctx, start); err != nil {
		return 0, false, err
	}
	pruned, more, err := rt.DB.PruneWebhooks(ctx, start, 0, spent)
	if pruned > 0 {
		rt.log().Info("records retention: webhook events and their delivery log deleted", "events", pruned)
	}
	if err != nil || more {
		return 0, more, err
	}
	failed := map[string]bool{} // the cases not to try again in this run
	for {
		ids, err := rt.DB.RetentionDue(ctx, rt.Clock.Now(), rt.batch()+len(failed))
		if err != nil {
			return removed, false, err
		}
		todo := 0
		for _, id := range ids {
			if failed[id] {
				continue
			}
			todo++
			rm, err := rt.DB.RemovePersonalData(ctx, id, rt.hasFiles, rt.files)
			switch {
			case dsar.ErrorMessage(err) == "error.retention.not_due":
				// Removed meanwhile by another run (or due only from the
				// next tick of the store's clock): not again in this run.
				failed[id] = true
			case err != nil:
				failed[id] = true
				if dsar.ErrorCode(err) == dsar.EUNAVAILABLE {
					return removed, false, err
				}
				rt.log().Error("records retention: a case's personal data could not be removed", "case", id, "code", dsar.ErrorCode(err),
					"message", dsar.ErrorMessage(err))
			default:
				removed++
				rt.log().Info("records retention: personal data removed", "case", rm.Reference, "controller", rm.Controller,
					"closed", rm.Closed.String(), "due", rm.Due.String(), "removed", rm.KindNames())
			}
		}
		if todo == 0 {
			return removed, false, nil
		}
		if spent() {
			return removed, true, nil
		}
	}
}

func (rt *Retention) log() *slog.Logger {
	if rt.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return rt.Log
}

// mailMessageIDPrefix is how the Message-ID of the mail an outbox item
// sends begins (sendMail).
func mailMessageIDPrefix(itemID string) string { return itemID + "@" }

// runRetention runs one part of the day's records retention; when its
// budget runs out with cases still due, the next part is queued at once.
func (h *Handlers) runRetention(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	var p dsar.RetentionPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || h.Retention == nil || p.Date.IsZero() {
		return outcome{}, fmt.Errorf("bad retention payload or no retention runner: %w", asynq.SkipRetry)
	}
	_, more, err := h.Retention.Run(ctx, RetentionBudget)
	if err != nil || !more {
		return outcome{}, err
	}
	next := dsar.RetentionPayload{Date: p.Date, Part: p.Part + 1}
	payload, _ := json.Marshal(next) // a date and an int always marshal
	return outcome{next: []*dsar.OutboxItem{{ID: store.RetentionItemID(p.Date, next.Part), Kind: dsar.OutboxRetention,
		Payload: payload, RunAt: h.Clock.Now()}}}, nil
}
