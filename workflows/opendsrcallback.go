package workflows

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
)

// TypeOpenDSRCallback makes one attempt to post a status callback to an
// OpenDSR client.
const TypeOpenDSRCallback = "opendsr:callback"

// postOpenDSRCallback makes one attempt to post an OpenDSR client's status
// callback (OpenDSR 2.0 section 8.6): the exact body signed with the
// intake's certificate key (X-OpenDSR-Signature, X-OpenDSR-Processor-Domain),
// through the webhooks' client, which refuses private addresses unless the
// deployment allows them. What follows a failure is the domain's
// (dsar.NextOpenDSRCallback): the next attempt, written with the item's
// completion, until the retry schedule ends; then an audit event on the
// case, written with it.
func (h *Handlers) postOpenDSRCallback(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	var p dsar.OpenDSRCallbackPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || p.Status.StatusCallbackURL == "" || p.Attempt < 1 {
		return outcome{}, fmt.Errorf("bad OpenDSR callback payload: %w", asynq.SkipRetry)
	}
	if h.OpenDSRSigner == nil {
		// Without the certificate's key no callback can be signed: kept
		// for a worker that has it.
		return outcome{}, fmt.Errorf("no OpenDSR certificate and key are configured (DSAR_OPENDSR_CERTIFICATE, DSAR_OPENDSR_KEY)")
	}
	body := p.Body()
	sig, err := h.OpenDSRSigner.Sign(body)
	if err != nil {
		return outcome{}, err
	}
	hdr := http.Header{}
	hdr.Set("User-Agent", "dsar-opendsr/1")
	hdr.Set(dsar.HeaderOpenDSRDomain, h.OpenDSRSigner.Domain)
	hdr.Set(dsar.HeaderOpenDSRSignature, sig)
	start := time.Now()
	res := h.WebhookClient.send(ctx, p.Status.StatusCallbackURL, hdr, h.Clock.Now(), body)
	env := dsar.Env{Now: h.Clock.Now(), NewID: func() string { return uuid.Must(uuid.NewV7()).String() }}
	next, failed := dsar.NextOpenDSRCallback(env, it.RequestID, p, res)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		h.Log.Warn("OpenDSR callback failed", "request", it.RequestID, "attempt", p.Attempt, "status", res.StatusCode,
			"err", res.Err, "retry", next != nil, "ms", time.Since(start).Milliseconds())
	}
	out := outcome{event: failed}
	if next != nil {
		out.next = []*dsar.OutboxItem{next}
	}
	return out, nil
}
