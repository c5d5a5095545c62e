package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
	dmail "github.com/dsar-project/dsar/workflows/mail"
)

// Handlers handle the outbox tasks: one handler per outbox kind (kinds).
type Handlers struct {
	Outbox   dsar.OutboxService
	Requests dsar.RequestService
	Cases    dsar.CaseService
	Jobs     dsar.VerificationJobs
	// Tasks and Connectors carry out the system tasks: the connector of
	// each kind this worker can reach.
	Tasks      dsar.TaskService
	Connectors connector.Set
	// Blobs keeps the data the export tasks collect: the connectors stream
	// it there before the outcome is recorded. Without it, exports fail.
	Blobs dsar.Blobs
	// Officers, when set, routes deadline reminders to the officers of the
	// case (the assignee, or all of the controller's) and escalates overdue
	// cases to the admins; without officers, reminders go to the
	// controller's privacy contact.
	Officers dsar.OfficerDirectory
	// Audit, when set, records the checkpoints of the cases.
	Audit interface {
		Checkpoint(ctx context.Context, before time.Time) error
	}
	Keyring     *dsar.Keyring
	Controllers *dsar.Controllers
	// BaseURL is the public URL of the service, for the links in mails;
	// Policy the subject-facing limits the mails state (how long a
	// verification or download code is valid, the download window).
	BaseURL string
	Policy  dsar.Policy
	Sender  dmail.Sender
	Clock   dsar.Clock
	Log     *slog.Logger
	// From is the sender address of every mail; the controller's legal name
	// is its display name.
	From string
	// MessageIDDomain is the right-hand side of the Message-IDs.
	MessageIDDomain string
	// Lease is how long a handler holds an outbox row between renewals
	// (default DefaultLease).
	Lease time.Duration
	// LeaseTicker, when set, replaces time.NewTicker as what tells a
	// running handler to renew its lease (tests tick it by hand).
	LeaseTicker func(every time.Duration) (ticks <-chan time.Time, stop func())
	// Retention runs the daily records retention.
	Retention *Retention
	// Results assembles and deletes the files of access and portability
	// cases (from the data the export tasks collected in Blobs).
	Results dsar.ResultService
	// TransmitClient, when set, sends the packages of direct
	// transmissions (a test's client trusts its receiver's certificate);
	// redirects are never followed and each recipient's timeout applies.
	TransmitClient *http.Client
	// Webhooks and WebhookClient deliver the webhook events to the
	// integrated systems' subscriptions.
	Webhooks      dsar.WebhookService
	WebhookClient *WebhookClient
	// OpenDSRSigner signs the status callbacks to OpenDSR clients, posted
	// through WebhookClient.
	OpenDSRSigner *dsar.OpenDSRSigner
	// Metrics, when set, counts failed tasks and mails.
	Metrics *Metrics
}

// policy returns the subject-facing limits the mails state.
func (h *Handlers) policy() dsar.Policy { return h.Policy.OrDefault() }

// handler does the work of one outbox item. It returns what to write
// with the item's completion, or an error to release the item for a retry
// (asynq.SkipRetry, or a permanent mail error, to give up on it).
type handler func(h *Handlers, ctx context.Context, it *dsar.OutboxItem) (outcome, error)

// kinds is the registry of the background work: for each outbox kind, the
// type of its queue task and its handler, which lives in a file of its own.
// A kind of dsar.OutboxKinds missing here fails a test.
var kinds = map[dsar.OutboxKind]struct {
	taskType string
	handle   handler
}{
	dsar.OutboxMail:            {TypeSendMail, (*Handlers).sendMail},
	dsar.OutboxReminder:        {TypeReminder, (*Handlers).fireReminder},
	dsar.OutboxVerifyReminder:  {TypeVerifyReminder, (*Handlers).remindUnverified},
	dsar.OutboxVerifyExpiry:    {TypeVerifyExpiry, (*Handlers).expireUnverified},
	dsar.OutboxDigest:          {TypeDigest, (*Handlers).sendDigest},
	dsar.OutboxCheckpoint:      {TypeCheckpoint, (*Handlers).recordCheckpoint},
	dsar.OutboxTask:            {TypeSystemTask, (*Handlers).runTask},
	dsar.OutboxRetention:       {TypeRetention, (*Handlers).runRetention},
	dsar.OutboxAssemble:        {TypeAssemble, (*Handlers).assemble},
	dsar.OutboxResultsExpiry:   {TypeResultsExpiry, (*Handlers).expireResults},
	dsar.OutboxTransmit:        {TypeTransmit, (*Handlers).transmit},
	dsar.OutboxWebhook:         {TypeWebhook, (*Handlers).deliverWebhook},
	dsar.OutboxWebhookDisabled: {TypeWebhookDisabled, (*Handlers).tellWebhookDisabled},
	dsar.OutboxOpenDSRCallback: {TypeOpenDSRCallback, (*Handlers).postOpenDSRCallback},
}

// Register adds the handler of every outbox kind to mux.
func (h *Handlers) Register(mux *asynq.ServeMux) {
	for _, k := range kinds {
		mux.HandleFunc(k.taskType, func(ctx context.Context, t *asynq.Task) error { return h.run(ctx, t, k.handle) })
	}
}

// outcome is what a handler's work produced: the audit event and follow-up
// rows to write with the row's completion, or that the row is not needed.
type outcome struct {
	event  *dsar.Event
	next   []*dsar.OutboxItem
	cancel bool
	// completed says the handler completed the row itself, in the
	// transaction of its work (system tasks).
	completed bool
}

// DefaultLease is how long a worker holds an outbox row without renewing
// the lease. A worker renews it every third of that while the handler runs,
// so a long task keeps its row, and the row of a worker that died is free
// again within one lease.
const DefaultLease = 30 * time.Second

// run claims the task's outbox row, does the work while renewing the
// lease, and completes, cancels or releases the row. A row that is not
// pending (done, or held by another worker) is left alone, which makes
// every handler idempotent.
func (h *Handlers) run(ctx context.Context, t *asynq.Task, handle handler) error {
	var p OutboxPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ID == "" {
		return fmt.Errorf("bad %s payload: %w", t.Type(), asynq.SkipRetry)
	}
	lease := h.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	item, ok, err := h.Outbox.Claim(ctx, p.ID, h.Clock.Now(), lease)
	if dsar.ErrorCode(err) == dsar.ENOTFOUND {
		return fmt.Errorf("outbox item %s: %w", p.ID, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	workCtx, release := h.holdLease(ctx, item, lease)
	out, err := handle(h, workCtx, item)
	release()
	if err != nil {
		h.Metrics.failed(t.Type(), err)
		final := errors.Is(err, asynq.SkipRetry) || dmail.IsPermanent(err)
		if n, ok := asynq.GetRetryCount(ctx); ok {
			if m, ok := asynq.GetMaxRetry(ctx); ok && n >= m {
				final = true
			}
		}
		msg := Redact(err.Error())
		if rerr := h.Outbox.Release(ctx, item, msg, final); rerr != nil {
			h.Log.Error("release outbox item", "id", item.ID, "err", rerr)
		}
		h.Log.Warn("outbox task failed", "type", t.Type(), "id", item.ID, "attempt", item.Attempts, "final", final, "err", msg)
		if final {
			return fmt.Errorf("%s: %w", msg, asynq.SkipRetry)
		}
		return errors.New(msg)
	}
	now := h.Clock.Now()
	if out.completed {
		return nil
	}
	if out.cancel {
		return h.Outbox.Cancel(ctx, item, now)
	}
	return h.Outbox.Complete(ctx, item, now, out.event, out.next)
}

// holdLease renews the claimed item's lease every third of it until stop is
// called. When the claim no longer holds the item (renewals failed for a
// whole lease and another worker took it over), the returned context is
// cancelled, so that the handler stops.
func (h *Handlers) holdLease(ctx context.Context, item *dsar.OutboxItem, lease time.Duration) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	newTicker := h.LeaseTicker
	if newTicker == nil {
		newTicker = func(every time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(every)
			return t.C, t.Stop
		}
	}
	ticks, stopTicks := newTicker(lease / 3)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer stopTicks()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticks:
			}
			held, err := h.Outbox.Renew(ctx, item, h.Clock.Now(), lease)
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				h.Log.Warn("renew outbox lease", "id", item.ID, "err", err)
			case !held:
				h.Log.Warn("outbox item taken over by another worker; stopping", "id", item.ID)
				cancel()
				return
			}
		}
	}()
	return ctx, func() { cancel(); <-done }
}

var emailLike = regexp.MustCompile(`[^\s<>"'@]+@[^\s<>"'@]+`)

// Redact removes anything that looks like an e-mail address from an error
// text, so that SMTP replies quoting a recipient never reach a log or the
// outbox's last_error column.
func Redact(s string) string { return emailLike.ReplaceAllString(s, "<redacted>") }
