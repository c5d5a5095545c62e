package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	nethttp "net/http"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
)

// Record is one record of an export's records list: a data-category key
// of the system ("" or absent when it does not say) and the record, any
// JSON value (an object, as a rule).
type Record struct {
	Category string          `json:"category"`
	Record   json.RawMessage `json:"record"`
}

// exportBody is what an export's result says besides its records.
type exportBody struct {
	Result
	hasCount bool
	records  bool // the body had a records list
}

// decodeExport reads a result body as a stream of JSON tokens: the records
// of its records list go to the export start opens (at the list's
// beginning) one by one, so the body is never held whole in memory.
// Fields it does not know are skipped. On an error, the export started (if
// any) is returned for the caller to abort.
func decodeExport(r io.Reader, start func() (*connector.Export, error)) (exportBody, *connector.Export, error) {
	var b exportBody
	var ex *connector.Export
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields() // in a record: the fields are known
	if err := delim(dec, '{'); err != nil {
		return b, nil, err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return b, ex, syntax(err)
		}
		key, _ := t.(string) // an object's keys are strings
		switch key {
		case "status":
			err = field(dec, key, &b.Status)
		case "message":
			err = field(dec, key, &b.Message)
		case "expected_by":
			err = field(dec, key, &b.ExpectedBy)
		case "data_url":
			err = field(dec, key, &b.DataURL)
		case "count":
			b.hasCount = true
			if err = field(dec, key, &b.Count); err == nil && b.Count < 0 {
				err = errors.New("count is negative")
			}
		case "records":
			if b.records {
				return b, ex, errors.New("records is given twice")
			}
			b.records = true
			if ex, err = start(); err != nil {
				return b, nil, err
			}
			err = records(dec, ex)
		default:
			var skip json.RawMessage
			err = syntax(dec.Decode(&skip))
		}
		if err != nil {
			return b, ex, err
		}
	}
	if err := delim(dec, '}'); err != nil {
		return b, ex, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return b, ex, errors.New("more data after the result's object")
	}
	return b, ex, nil
}

// records copies a records list into the export.
func records(dec *json.Decoder, ex *connector.Export) error {
	if err := delim(dec, '['); err != nil {
		return fmt.Errorf("records: %w", err)
	}
	for dec.More() {
		var rec Record
		n := ex.Lines() + 1
		if err := dec.Decode(&rec); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return fmt.Errorf("record %d: want {\"category\":\"…\",\"record\":{…}}", n)
			}
			return fmt.Errorf("record %d: %w", n, syntax(err))
		}
		if len(rec.Record) == 0 || string(rec.Record) == "null" {
			return fmt.Errorf("record %d: record is missing", n)
		}
		if err := ex.Write(rec.Category, rec.Record); err != nil {
			return fmt.Errorf("the export could not be stored: %w", err)
		}
	}
	if err := delim(dec, ']'); err != nil {
		return fmt.Errorf("records: %w", err)
	}
	return nil
}

// field decodes the value of a known field.
func field(dec *json.Decoder, key string, v any) error {
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s: want a %s", key, map[bool]string{true: "number", false: "string"}[key == "count"])
		}
		return syntax(err)
	}
	return nil
}

// delim reads the next token, which must be d.
func delim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return syntax(err)
	}
	if got, ok := t.(json.Delim); !ok || got != d {
		return fmt.Errorf("want %s", map[json.Delim]string{'{': "an object", '[': "a list"}[d])
	}
	return nil
}

// syntax words a decoding error for the officers: where it broke, never
// the data.
func syntax(err error) error {
	var se *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, connector.ErrTooLarge):
		return err
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("the body ends before the result does")
	case errors.As(err, &se):
		return fmt.Errorf("not JSON at byte %d", se.Offset)
	}
	return err
}

// exportResult reads the result of an export task as it arrives and
// streams its records into the task's blob: a done result carries records
// (stored, and counted, as they come) or a data_url, fetched at once. A
// body that cannot be read, is over max_export_bytes, or whose count is
// not its records' is a failed attempt, and stores nothing. polled says
// the body is a status URL's or data_url's, where "pending" is allowed;
// fromDataURL that it is a data_url's, which must carry records.
func (c *Connector) exportResult(ctx context.Context, o *connector.Order, cfg *dsar.HTTPConnector, secret dsar.WebhookSecret,
	status int, header nethttp.Header, body io.Reader, polled, fromDataURL bool) dsar.TaskOutcome {
	prefix := ""
	if polled {
		prefix = "status: "
	}
	if fromDataURL {
		prefix = "data_url: "
	}
	limit := cfg.MaxExportBytes
	if limit <= 0 {
		limit = dsar.DefaultMaxExportBytes
	}
	short := func(text string) string { return prefix + connector.Answer(o.Request.Subject, status, text) }
	bad := func(why error) dsar.TaskOutcome {
		if errors.Is(why, connector.ErrTooLarge) {
			why = fmt.Errorf("the export is over max_export_bytes (%d bytes)", limit)
		}
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: short("the export cannot be used: " + why.Error())}
	}
	b, ex, err := decodeExport(&connector.CapReader{R: body, Left: limit}, func() (*connector.Export, error) {
		return connector.StartExport(ctx, o.Blobs, o.Task.RequestID, o.Task.ID)
	})
	if err == nil {
		switch {
		case fromDataURL && !b.records:
			err = errors.New("a data_url's answer carries records")
		case b.records && b.Status != "done":
			err = fmt.Errorf("records with status %q: records come with done", b.Status)
		case b.records && b.DataURL != "":
			err = errors.New("records and data_url together: give one")
		case b.records && b.hasCount && b.Count != ex.Lines():
			err = fmt.Errorf("count is %d but %d records came", b.Count, ex.Lines())
		case b.Status == "done" && !b.records && b.DataURL == "":
			err = errors.New("an export's done carries records or data_url")
		}
	}
	if err != nil {
		if ex != nil {
			ex.Abort(err)
		}
		return bad(err)
	}
	text := b.Status
	switch {
	case b.records:
		n, err := ex.Commit()
		if err != nil {
			return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: short("the export could not be stored: " + err.Error())}
		}
		text = fmt.Sprintf("done, %d records stored", n)
		if b.Message != "" {
			text += ": " + b.Message
		}
		return dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: n, Answer: short(text)}
	case b.Status == "done":
		return c.fetchData(ctx, o, cfg, secret, b.DataURL)
	}
	if b.Message != "" {
		text += ": " + b.Message
	}
	out := c.resultOutcome(b.Result, short(text), polled)
	if out.Kind == dsar.OutcomeAccepted {
		out.PollAfter = c.pollAfter(header)
	}
	return out
}

// fetchData fetches an export's records from the data_url the system
// gave, with a signed GET, streaming them into the blob.
func (c *Connector) fetchData(ctx context.Context, o *connector.Order, cfg *dsar.HTTPConnector, secret dsar.WebhookSecret, raw string) dsar.TaskOutcome {
	target, err := cfg.Resolve(raw)
	if err != nil {
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "data_url " + err.Error()}
	}
	id := fmt.Sprintf("%s-%d-data-%d", o.Task.ID, o.Task.Round, c.clock.Now().Unix())
	status, header, data, out := c.call(ctx, o, cfg, nethttp.MethodGet, target, id, "", nil, secret,
		func(status int, header nethttp.Header, body io.Reader) dsar.TaskOutcome {
			return c.exportResult(ctx, o, cfg, secret, status, header, body, true, true)
		})
	if out != nil {
		if status == 0 {
			out.Answer = "data_url: " + out.Answer
		}
		if out.Kind == dsar.OutcomeFailed || out.Kind == dsar.OutcomeDone || out.Kind == dsar.OutcomeRetry {
			return *out
		}
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: out.Answer + " (a data_url's answer carries the records)"}
	}
	// The system said it was done: an answer without the data is a failed
	// attempt, whatever it says.
	return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "data_url: " + c.short(o, status, data), RetryAfter: dsar.RetryAfter(header, c.clock.Now())}
}
