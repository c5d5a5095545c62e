package dsar_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
)

// kraftbytte is the shop's portability recipient.
var kraftbytte = dsar.PortabilityRecipient{Key: "kraftbytte", Name: "Kraftbytte AS", URL: "https://kraftbytte.example/dsar/packages",
	Secret: dsar.Secret{Env: "KRAFTBYTTE_SECRET"}, Timeout: time.Minute, MaxAttempts: 3}

// packagedCase is a shop portability case whose package is assembled,
// with the transmission the subject asked for; the shop has one
// portability recipient.
func packagedCase(t *testing.T, to, organisation string) (*dsar.Case, dsar.Env) {
	t.Helper()
	c, env := endedCase(t, dsar.TypePortability)
	c.Controller.PortabilityRecipients = []dsar.PortabilityRecipient{kraftbytte}
	c.Request.Transmit = dsar.Transmission{To: to, Organisation: organisation}
	files := []dsar.ResultFile{{Name: dsar.ResultPackage, Key: dsar.ResultBlobKey(c.Request.ID, "asm-1", dsar.ResultPackage), Bytes: 5, SHA256: "cc"}}
	eff, err := dsar.ResultsAssembled(env, c, files, 0)
	if err != nil {
		t.Fatal(err)
	}
	return apply(c, eff), env
}

// transmits returns the transmission items of an effect with their tries.
func transmits(t *testing.T, eff *dsar.Effect) []dsar.TransmitPayload {
	t.Helper()
	var out []dsar.TransmitPayload
	for _, it := range eff.Outbox {
		if it.Kind == dsar.OutboxTransmit {
			var p dsar.TransmitPayload
			if err := json.Unmarshal(it.Payload, &p); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
	}
	return out
}

func TestCompletionSendsThePackageOnlyToARecipientSetUp(t *testing.T) {
	for _, tc := range []struct {
		name, to, organisation string
		state                  dsar.TransmitState
		items                  int
	}{
		{"none asked", "", "", "", 0},
		{"a recipient set up", "kraftbytte", "", dsar.TransmitPending, 1},
		{"another organisation", dsar.TransmitOther, "Strøm & Sånn AS", dsar.TransmitNotFeasible, 0},
		{"a recipient no longer set up", "gone", "", dsar.TransmitNotFeasible, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, env := packagedCase(t, tc.to, tc.organisation)
			eff, err := dsar.Complete(env, c, shopOfficer, dsar.Decision{Summary: "Here is your data."})
			if err != nil {
				t.Fatal(err)
			}
			tr := eff.Request.Transmit
			if tr.State != tc.state || tr.To != tc.to || tr.Organisation != tc.organisation {
				t.Errorf("transmission %+v, want state %q", tr, tc.state)
			}
			got := transmits(t, eff)
			if len(got) != tc.items || (tc.items == 1 && got[0].Attempt != 1) {
				t.Errorf("transmit items %+v, want %d", got, tc.items)
			}
			// The completion mail tells the subject either way (its text
			// depends on the state: pending or not feasible).
			if !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailCompletion}) {
				t.Errorf("mails %v", mails(eff))
			}
		})
	}
	// An access case never transmits, whatever its request says.
	c, env := endedCase(t, dsar.TypeAccess)
	c.Controller.PortabilityRecipients = []dsar.PortabilityRecipient{kraftbytte}
	c.Request.Transmit.To = "kraftbytte"
	eff, err := dsar.ResultsAssembled(env, c, []dsar.ResultFile{{Name: dsar.ResultReportHTML}, {Name: dsar.ResultReportJSON}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if eff, err = dsar.Complete(env, apply(c, eff), shopOfficer, dsar.Decision{Summary: "Done."}); err != nil {
		t.Fatal(err)
	}
	if len(transmits(t, eff)) != 0 {
		t.Errorf("an access case transmits: %+v", eff.Outbox)
	}
}

// completedForTransmit is the packaged case to kraftbytte, completed.
func completedForTransmit(t *testing.T) (*dsar.Case, dsar.Env) {
	t.Helper()
	c, env := packagedCase(t, "kraftbytte", "")
	eff, err := dsar.Complete(env, c, shopOfficer, dsar.Decision{Summary: "Here is your data."})
	if err != nil {
		t.Fatal(err)
	}
	return apply(c, eff), env
}

func TestTransmissionRetriesThenFails(t *testing.T) {
	c, env := completedForTransmit(t)
	p, f, err := dsar.TransmissionDue(c, env.Now)
	if err != nil || p.Key != "kraftbytte" || f.Name != dsar.ResultPackage {
		t.Fatalf("due: %+v %+v %v", p, f, err)
	}
	if id := dsar.TransmissionID(c.Request, f); id != "dsar_tx_case-1_asm-1" {
		t.Errorf("webhook-id %q: want the case and the assembly", id)
	}
	// A 503 with Retry-After: the next try after at least that long, no
	// event and no mail yet.
	eff, err := dsar.RecordTransmission(env, c, 1, dsar.TransmitOutcome{Result: dsar.TransmitRetry, Status: 503,
		Reason: "the recipient answered 503 Service Unavailable", RetryAfter: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := transmits(t, eff); len(got) != 1 || got[0].Attempt != 2 {
		t.Fatalf("retry items %+v", got)
	}
	if at := eff.Outbox[0].RunAt; at.Before(env.Now.Add(2 * time.Hour)) {
		t.Errorf("retry at %s: before the Retry-After", at)
	}
	if len(eff.Events) != 0 || len(mails(eff)) != 0 || eff.Request.Transmit.State != dsar.TransmitPending || eff.Request.Transmit.Attempts != 1 {
		t.Errorf("retry effect: %+v, events %s, mails %v", eff.Request.Transmit, kinds(eff), mails(eff))
	}
	c = apply(c, eff)
	// The last try (MaxAttempts 3) fails for good: audited, the subject
	// told, the officers alerted.
	eff, err = dsar.RecordTransmission(env, c, 3, dsar.TransmitOutcome{Result: dsar.TransmitRetry, Status: 502, Reason: "the recipient answered 502 Bad Gateway"})
	if err != nil {
		t.Fatal(err)
	}
	if tr := eff.Request.Transmit; tr.State != dsar.TransmitFailed || tr.At == nil || tr.Attempts != 3 || len(transmits(t, eff)) != 0 {
		t.Errorf("after the last try: %+v", tr)
	}
	if kinds(eff) != "transmission_failed" || eff.Events[0].Data["status"] != "502" || eff.Events[0].Data["attempts"] != "3" {
		t.Errorf("events %s %+v", kinds(eff), eff.Events)
	}
	if !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailTransmissionFailed, dsar.MailTransmissionAlert}) {
		t.Errorf("mails %v", mails(eff))
	}
	c = apply(c, eff)
	if _, _, err := dsar.TransmissionDue(c, env.Now); code(err) != "conflict:error.transmit.not_due" {
		t.Errorf("due after failing: %v", err)
	}
	if _, err := dsar.RecordTransmission(env, c, 4, dsar.TransmitOutcome{Result: dsar.TransmitRefused}); code(err) != "conflict:error.transmit.not_due" {
		t.Errorf("a report after failing: %v", err)
	}
}

func TestTransmissionDelivered(t *testing.T) {
	c, env := completedForTransmit(t)
	// A 400 on the first try fails at once.
	eff, err := dsar.RecordTransmission(env, c, 1, dsar.TransmitOutcome{Result: dsar.TransmitRefused, Status: 400, Reason: "the recipient answered 400 Bad Request"})
	if err != nil || eff.Request.Transmit.State != dsar.TransmitFailed || kinds(eff) != "transmission_failed" {
		t.Fatalf("refused: %+v %v", eff, err)
	}

	eff, err = dsar.RecordTransmission(env, c, 2, dsar.TransmitOutcome{Result: dsar.TransmitDelivered, Status: 202, SHA256: "cc", Bytes: 5, Receipt: "KB-1"})
	if err != nil {
		t.Fatal(err)
	}
	tr := eff.Request.Transmit
	if tr.State != dsar.TransmitSent || tr.Receipt != "KB-1" || tr.SHA256 != "cc" || tr.Bytes != 5 || tr.At == nil || !tr.At.Equal(env.Now) {
		t.Errorf("delivered: %+v", tr)
	}
	want := map[string]string{"recipient": "kraftbytte", "organisation": "Kraftbytte AS", "status": "202", "sha256": "cc", "bytes": "5", "receipt": "KB-1", "attempt": "2"}
	if kinds(eff) != "transmitted" || !mapsEqual(eff.Events[0].Data, want) {
		t.Errorf("events %s %+v", kinds(eff), eff.Events)
	}
	if !slices.Equal(mails(eff), []dsar.MailTemplate{dsar.MailTransmitted}) {
		t.Errorf("mails %v", mails(eff))
	}

	// Reopened while an upload was under way: the delivery is audited
	// (it happened), nothing else changes.
	reopened, err := dsar.Reopen(env, c, shopOfficer, "The subject asked for more.")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(reopened.CancelKinds, dsar.OutboxTransmit) || reopened.Request.Transmit != (dsar.Transmission{To: "kraftbytte"}) {
		t.Errorf("reopening keeps the transmission: %+v %v", reopened.Request.Transmit, reopened.CancelKinds)
	}
	sent := apply(c, eff)
	if !dsar.MailStillTrue(dsar.MailPayload{Template: dsar.MailTransmitted}, sent.Request) ||
		dsar.MailStillTrue(dsar.MailPayload{Template: dsar.MailTransmitted}, reopened.Request) ||
		dsar.MailStillTrue(dsar.MailPayload{Template: dsar.MailTransmissionFailed}, sent.Request) {
		t.Error("a transmission's mail is sent only while the transmission stands as it says")
	}
	rc := apply(c, reopened)
	eff, err = dsar.RecordTransmission(env, rc, 1, dsar.TransmitOutcome{Result: dsar.TransmitDelivered, Status: 200, SHA256: "cc", Bytes: 5})
	if err != nil || eff.Request != nil || kinds(eff) != "transmitted" || len(eff.Outbox) != 0 {
		t.Errorf("delivery after reopening: %+v %v", eff, err)
	}
	if _, err := dsar.RecordTransmission(env, rc, 1, dsar.TransmitOutcome{Result: dsar.TransmitRetry}); code(err) != "conflict:error.transmit.not_due" {
		t.Errorf("a retry after reopening: %v", err)
	}

	// The window ends while it is still trying: it fails, and the try
	// waiting is cancelled.
	later := env
	later.Now = c.Request.DownloadUntil.Add(time.Second)
	eff, err = dsar.ResultsExpired(later, c)
	if err != nil || eff.Request.Transmit.State != dsar.TransmitFailed || !slices.Contains(eff.CancelKinds, dsar.OutboxTransmit) ||
		kinds(eff) != "results_deleted,transmission_failed" {
		t.Errorf("expiry while pending: %+v %v", eff, err)
	}
}

func TestTransmitToIsValidated(t *testing.T) {
	ctrls := shopControllers(t)
	for _, tc := range []struct {
		name         string
		typ          dsar.RequestType
		to, org      string
		want         string
		wantTo, wOrg string
	}{
		{"a recipient", dsar.TypePortability, " kraftbytte ", "", "", "kraftbytte", ""},
		{"another organisation", dsar.TypePortability, "other", " Strøm AS ", "", "other", "Strøm AS"},
		{"unknown key", dsar.TypePortability, "elhub", "", "invalid:field.transmit.unknown", "", ""},
		{"other without a name", dsar.TypePortability, "other", " ", "invalid:field.transmit.organisation", "", ""},
		{"a name with a recipient", dsar.TypePortability, "kraftbytte", "Strøm AS", "invalid:field.transmit.organisation_other", "", ""},
		{"a name alone", dsar.TypePortability, "", "Strøm AS", "invalid:field.required", "", ""},
		{"not portability", dsar.TypeAccess, "kraftbytte", "", "invalid:field.transmit.portability_only", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := dsar.NewRequest{Type: tc.typ, Controller: "shop", Subject: dsar.Subject{Email: "ola@example.no"}, TransmitTo: tc.to, TransmitOrganisation: tc.org}
			eff, err := dsar.NewCase(testEnv(), in, dsar.ActorSubject("192.0.2.1"), ctrls)
			if code(err) != tc.want {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			if err != nil {
				return
			}
			if tr := eff.Request.Transmit; tr.To != tc.wantTo || tr.Organisation != tc.wOrg || tr.State != "" {
				t.Errorf("stored %+v", tr)
			}
		})
	}
	// The refusal of an unknown key lists what may be chosen.
	in := dsar.NewRequest{Type: dsar.TypePortability, Controller: "shop", Subject: dsar.Subject{Email: "ola@example.no"}, TransmitTo: "elhub"}
	_, err := dsar.NewCase(testEnv(), in, dsar.ActorSubject(""), ctrls)
	if e := err.(*dsar.Error); !slices.Equal(e.Fields[0].Params["allowed"].([]string), []string{"kraftbytte", "other"}) {
		t.Errorf("allowed %v", e.Fields[0].Params)
	}
}

// shopControllers is a shop with one portability recipient, from the
// configuration file format.
func shopControllers(t *testing.T) *dsar.Controllers {
	t.Helper()
	ctrls, err := dsar.ParseControllers("shop.yaml", []byte(`controllers:
  - key: shop
    legal_name: Shop AS
    jurisdiction: NO
    time_zone: Europe/Oslo
    languages: [nb, en]
    privacy_contact: {email: privacy@shop.example}
    supervisory_authority: {name: Datatilsynet, address: "Postboks 458 Sentrum, 0105 Oslo"}
    default_regulation: gdpr
    portability_recipients:
      - key: kraftbytte
        name: Kraftbytte AS
        url: https://kraftbytte.example/dsar/packages
        secret: {env: KRAFTBYTTE_SECRET}
`))
	if err != nil {
		t.Fatal(dsar.ErrorMessage(err))
	}
	return ctrls
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestTransmitResultOf: what a recipient's answer means for an upload.
func TestTransmitResultOf(t *testing.T) {
	for status, want := range map[int]dsar.TransmitResult{200: dsar.TransmitDelivered, 202: dsar.TransmitDelivered, 204: dsar.TransmitDelivered,
		0: dsar.TransmitRetry, 429: dsar.TransmitRetry, 500: dsar.TransmitRetry, 503: dsar.TransmitRetry,
		301: dsar.TransmitRefused, 307: dsar.TransmitRefused, 400: dsar.TransmitRefused, 404: dsar.TransmitRefused, 410: dsar.TransmitRefused} {
		if got := dsar.TransmitResultOf(status); got != want {
			t.Errorf("%d: %s, want %s", status, got, want)
		}
	}
}
