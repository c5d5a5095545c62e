package workflows

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/hibiken/asynq"

	"github.com/dsar-project/dsar"
)

// TypeTransmit sends a portability case's package to the organisation the
// subject named (GDPR Art 20(2)).
const TypeTransmit = "results:transmit"

// The headers of an upload of a package besides the Standard Webhooks
// ones (docs/portability.md): the case's reference, the package's SHA-256
// (hex, and as an RFC 9530 Content-Digest), and the receipt a recipient
// may answer with.
const (
	HeaderReference     = "Dsar-Reference"
	HeaderPackageSHA256 = "Dsar-Content-SHA256"
	HeaderReceipt       = "Dsar-Receipt"
)

// maxReceiptAnswer bounds what is read of a recipient's answer.
const maxReceiptAnswer = 64 << 10

// defaultTransmitClient sends the packages of a worker that was given no
// client of its own.
var defaultTransmitClient = &nethttp.Client{Transport: nethttp.DefaultTransport}

// transmit sends the case's package to the portability recipient the
// subject chose, signed in the Standard Webhooks format over the streamed
// body (the blob is read twice: once to sign, once to send; never held
// whole), and records what came of it through the domain
// (dsar.RecordTransmission): received, to try again later, or failed.
func (h *Handlers) transmit(ctx context.Context, it *dsar.OutboxItem) (outcome, error) {
	if h.Results == nil || h.Blobs == nil {
		return outcome{}, errors.New("this worker has no case files to send")
	}
	var p dsar.TransmitPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil || p.Attempt < 1 {
		return outcome{}, fmt.Errorf("bad transmit payload: %w", asynq.SkipRetry)
	}
	c, err := h.Results.Transmission(ctx, it.RequestID)
	if dsar.ErrorCode(err) == dsar.ENOTFOUND {
		return outcome{}, fmt.Errorf("transmit %s: %v: %w", it.RequestID, err, asynq.SkipRetry)
	} else if err != nil {
		return outcome{}, err
	}
	rcpt, f, err := dsar.TransmissionDue(c, h.Clock.Now())
	var o dsar.TransmitOutcome
	switch dsar.ErrorCode(err) {
	case "":
		o, err = h.upload(ctx, c.Request, rcpt, f)
		if err != nil {
			return outcome{}, err
		}
	case dsar.ECONFLICT:
		return outcome{cancel: true}, nil // reopened, ended, or the package is gone
	case dsar.EUNPROCESSABLE:
		o = dsar.TransmitOutcome{Result: dsar.TransmitRefused, Reason: "the recipient is no longer in the data map"}
	default:
		return outcome{}, err
	}
	h.Log.Info("transmit package", "case", c.Request.ID, "recipient", c.Request.Transmit.To, "attempt", p.Attempt,
		"result", o.Result, "status", o.Status)
	if err := h.Results.Transmitted(ctx, it, p.Attempt, o); err != nil && dsar.ErrorCode(err) != dsar.ECONFLICT {
		return outcome{}, err
	}
	return outcome{completed: true}, nil
}

// upload posts the package once and says what came of it. An error is
// this side's (the file cannot be read): the item is tried again.
func (h *Handlers) upload(ctx context.Context, r *dsar.Request, rcpt *dsar.PortabilityRecipient, f *dsar.ResultFile) (dsar.TransmitOutcome, error) {
	raw, err := rcpt.Secret.Value()
	if err != nil {
		return dsar.TransmitOutcome{Result: dsar.TransmitRetry, Reason: "signing secret: " + err.Error()}, nil
	}
	secret, err := dsar.ParseWebhookSecret(raw)
	if err != nil {
		return dsar.TransmitOutcome{Result: dsar.TransmitRetry, Reason: "signing secret: " + err.Error()}, nil
	}
	id, at := dsar.TransmissionID(r, f), h.Clock.Now()
	signer := secret.Signer(id, at)
	sum, n, err := h.readPackage(ctx, f.Key, signer)
	if err != nil {
		return dsar.TransmitOutcome{}, err
	}
	if sum != f.SHA256 || n != f.Bytes {
		return dsar.TransmitOutcome{}, fmt.Errorf("the package of %s is not what was assembled (%d bytes, sha256 %s)", r.ID, n, sum)
	}

	body, err := h.Blobs.Open(ctx, f.Key)
	if err != nil {
		return dsar.TransmitOutcome{}, err
	}
	defer body.Close()
	worker := ctx
	ctx, cancel := context.WithTimeout(ctx, rcpt.Timeout)
	defer cancel()
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, rcpt.URL, body)
	if err != nil {
		return dsar.TransmitOutcome{Result: dsar.TransmitRefused, Reason: "bad URL: " + err.Error()}, nil
	}
	req.ContentLength = f.Bytes
	bin, _ := hex.DecodeString(f.SHA256) // hex written by the assembly
	req.Header.Set("Content-Type", "application/zip")
	req.Header.Set("User-Agent", "dsar")
	req.Header.Set("Idempotency-Key", id)
	req.Header.Set(HeaderReference, r.Reference)
	req.Header.Set(HeaderPackageSHA256, f.SHA256)
	req.Header.Set("Content-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(bin)+":")
	req.Header.Set(dsar.HeaderWebhookID, id)
	req.Header.Set(dsar.HeaderWebhookTimestamp, strconv.FormatInt(at.Unix(), 10))
	req.Header.Set(dsar.HeaderWebhookSignature, signer.Signature())

	client := *defaultTransmitClient
	if h.TransmitClient != nil {
		client = *h.TransmitClient
	}
	client.CheckRedirect = func(*nethttp.Request, []*nethttp.Request) error {
		return nethttp.ErrUseLastResponse // a redirect is an answer, never followed
	}
	client.Timeout = 0 // the context bounds the upload
	resp, err := client.Do(req)
	if err != nil {
		if worker.Err() != nil {
			return dsar.TransmitOutcome{}, err // the worker stops or lost the item: not the recipient's doing
		}
		return dsar.TransmitOutcome{Result: dsar.TransmitResultOf(0), Reason: "no answer: " + Redact(err.Error())}, nil
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxReceiptAnswer))
	o := dsar.TransmitOutcome{Result: dsar.TransmitResultOf(resp.StatusCode), Status: resp.StatusCode, SHA256: f.SHA256, Bytes: f.Bytes,
		Reason: "the recipient answered " + resp.Status}
	switch o.Result {
	case dsar.TransmitDelivered:
		o.Reason, o.Receipt = "", receiptOf(resp.Header, answer)
	case dsar.TransmitRetry:
		o.RetryAfter = dsar.RetryAfter(resp.Header, h.Clock.Now())
	default:
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			o.Reason += " (a redirect, not followed)"
		}
	}
	return o, nil
}

// readPackage reads the package under key into w and returns its SHA-256
// (hex) and size.
func (h *Handlers) readPackage(ctx context.Context, key string, w io.Writer) (string, int64, error) {
	rc, err := h.Blobs.Open(ctx, key)
	if err != nil {
		return "", 0, err
	}
	defer rc.Close()
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, sum), rc)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(sum.Sum(nil)), n, nil
}

// receiptOf returns the receipt a recipient answered with: the
// Dsar-Receipt header, else "receipt" of a JSON answer; only printable
// characters, "" when none.
func receiptOf(h nethttp.Header, answer []byte) string {
	v := h.Get(HeaderReceipt)
	if v == "" {
		var body struct {
			Receipt string `json:"receipt"`
		}
		if json.Unmarshal(answer, &body) == nil {
			v = body.Receipt
		}
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, v))
}
