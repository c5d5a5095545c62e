package dsar

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The files an access or portability case gives its subject, assembled
// from the data the systems returned once every task has ended.
const (
	// ResultReportHTML is the Art 15 answer as a readable page.
	ResultReportHTML = "report.html"
	// ResultReportJSON is the same answer as JSON.
	ResultReportJSON = "report.json"
	// ResultPackage is the Art 20 package: JSON and CSV per system and
	// category, and a manifest.
	ResultPackage = "package.zip"
)

// ResultNames names the files a request of type t gives its subject: the
// Art 15 report for access, the portable package for portability; none
// for the other types.
func ResultNames(t RequestType) []string {
	switch t {
	case TypeAccess:
		return []string{ResultReportHTML, ResultReportJSON}
	case TypePortability:
		return []string{ResultPackage}
	}
	return nil
}

// GivesResults reports whether a request of type t is answered with files
// for the subject.
func GivesResults(t RequestType) bool { return len(ResultNames(t)) > 0 }

// ExportsBlobPrefix is the prefix of the data a case's export tasks
// collected (ExportBlobKey).
func ExportsBlobPrefix(caseID string) string { return CaseBlobPrefix(caseID) + "exports/" }

// ResultsBlobPrefix is the prefix of a case's assembled files.
func ResultsBlobPrefix(caseID string) string { return CaseBlobPrefix(caseID) + "results/" }

// ExpiredBlobPrefixes are what the end of a case's download window deletes
// (ResultsExpired): the subject's files and the data the systems returned.
func ExpiredBlobPrefixes(caseID string) []string {
	return []string{ResultsBlobPrefix(caseID), ExportsBlobPrefix(caseID)}
}

// ResultBlobKey is where an assembly of a case's files keeps one: each
// assembly its own, so that one that finishes late never overwrites the
// files of a newer one (made after a redaction).
func ResultBlobKey(caseID, assemblyID, name string) string {
	return ResultsBlobPrefix(caseID) + assemblyID + "/" + name
}

// ResultFile is an assembled file: its name, where it is kept, its size
// and its SHA-256 (hex).
type ResultFile struct {
	Name   string `json:"name"`
	Key    string `json:"key"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Redaction is one record of a system's export that the subject is not
// given because it would harm others (Art 15(4)): the record on the line
// Line (from 1) of the export of task TaskID, with the officer's reason.
type Redaction struct {
	ID        string
	RequestID string
	TaskID    string
	Line      int
	Reason    string
	By        string
	At        time.Time
}

// DownloadCode is one e-mailed code that opens a case's files, as the
// subject meets it (the code itself is derived from its ID, never kept).
type DownloadCode = Verification

// maxRedactLine bounds the line a redaction names.
const maxRedactLine = 100_000_000

// resultsReady is the rule of the actions on a case's results: an open
// access or portability case whose tasks have all ended.
func resultsReady(c *Case) error {
	r := c.Request
	switch {
	case !GivesResults(r.Type):
		return &Error{Code: ECONFLICT, Message: "error.results.type", Params: map[string]any{"type": r.Type}}
	case !r.Status.Open():
		return errClosed()
	case r.Status != StatusInProgress:
		return &Error{Code: ECONFLICT, Message: "error.transition", Params: map[string]any{"from": r.Status, "to": StatusCompleted}}
	case !r.TasksEnded:
		return &Error{Code: ECONFLICT, Message: "error.results.tasks_open"}
	}
	return nil
}

// ResultsAssembled records the files assembled for the subject with the
// case's redactions (as many as the assembly left out); the case can then
// be completed, which gives them to the subject. Files assembled for a
// case that has moved on since (completed, or redacted again while they
// were made) are not recorded: ECONFLICT, and the worker drops them.
func ResultsAssembled(env Env, c *Case, files []ResultFile, redactions int) (*Effect, error) {
	if err := resultsReady(c); err != nil {
		return nil, err
	}
	if redactions != c.Redactions {
		return nil, &Error{Code: ECONFLICT, Message: "error.results.stale"}
	}
	ch := begin(env, c, ActorService)
	r := ch.r
	now := env.Now
	r.ResultsAt, r.Results, r.UpdatedAt = &now, slices.Clone(files), now
	ch.eff.Request = r
	data := map[string]string{"redactions": strconv.Itoa(redactions)}
	for _, f := range files {
		data[f.Name] = strconv.FormatInt(f.Bytes, 10) + " bytes, sha256 " + f.SHA256
	}
	ch.eff.Events = append(ch.eff.Events, &Event{Kind: EventResultsAssembled, RequestID: r.ID, At: now, Actor: ActorService.ID,
		From: r.Status, To: r.Status, Data: data})
	return ch.eff, nil
}

// Redact leaves one record of a system's export out of what the subject is
// given, because giving it would harm the rights of others (Art 15(4)),
// with the officer's reason; the files are assembled again without it.
// Only a done export task's records can be redacted, before the case is
// completed.
func Redact(env Env, c *Case, a Actor, taskID string, line int, reason string) (*Effect, error) {
	ch, err := start(env, c, a, ActionRedact)
	if err != nil {
		return nil, err
	}
	var fields []FieldError
	if err := ValidateReason("reason", reason); err != nil {
		fields = append(fields, err.(*Error).Fields...)
	}
	t, ok := c.Task(taskID)
	switch {
	case !ok || t.Action != ActionExport:
		fields = append(fields, FieldError{Field: "task", Message: "error.redact.task"})
	case !t.Redactable():
		fields = append(fields, FieldError{Field: "task", Message: "error.redact.no_data"})
	}
	if line < 1 || line > maxRedactLine {
		fields = append(fields, FieldError{Field: "line", Message: "error.redact.line"})
	}
	if len(fields) > 0 {
		return nil, Invalid(fields...)
	}
	r, now := ch.r, env.Now
	red := &Redaction{ID: env.NewID(), RequestID: r.ID, TaskID: taskID, Line: line, Reason: strings.TrimSpace(reason), By: a.ID, At: now}
	ch.eff.Redactions = append(ch.eff.Redactions, red)
	r.ResultsAt, r.Results = nil, nil
	ch.assemble()
	return ch.done(&Event{Kind: EventRedacted, Reason: red.Reason,
		Data: map[string]string{"task": taskID, "system": t.System, "line": strconv.Itoa(line)}})
}

// ViewResult records that an officer read one of the subject's files, and
// returns it; the case itself does not change. Only those who may change
// the case may read them (an auditor may not).
func ViewResult(env Env, c *Case, a Actor, name string) (*Effect, *ResultFile, error) {
	if !a.CanChange(c.Request.Controller) {
		return nil, nil, &Error{Code: EFORBIDDEN, Message: "error.forbidden"}
	}
	f, ok := c.Request.Result(name)
	if !ok {
		return nil, nil, &Error{Code: ENOTFOUND, Message: "error.not_found"}
	}
	ch := begin(env, c, a)
	eff, err := ch.done(&Event{Kind: EventResultsViewed, Data: map[string]string{"file": name}})
	if err != nil {
		return nil, nil, err
	}
	eff.Request = nil // the case itself does not change
	return eff, f, nil
}

// Result returns the case's file of the name, if it has one.
func (r *Request) Result(name string) (*ResultFile, bool) {
	i := slices.IndexFunc(r.Results, func(f ResultFile) bool { return f.Name == name })
	if i < 0 {
		return nil, false
	}
	f := r.Results[i]
	return &f, true
}

// Redactable reports whether records of the task can be left out of the
// subject's files: it is an export that returned data.
func (t *Task) Redactable() bool { return t.Action == ActionExport && t.Status == TaskDone }

// assemble asks for the case's files to be assembled (again).
func (ch *change) assemble() {
	ch.eff.CancelKinds = append(ch.eff.CancelKinds, OutboxAssemble)
	ch.eff.Outbox = append(ch.eff.Outbox, &OutboxItem{ID: ch.env.NewID(), Kind: OutboxAssemble, RequestID: ch.r.ID, RunAt: ch.env.Now})
}

// release gives the subject the case's files as the case is completed:
// they can be downloaded to the end of the day (in the controller's zone)
// the policy's window ends on, and are deleted then.
func (ch *change) release() {
	r, p, loc := ch.r, ch.env.policy(), ch.c.Controller.Location
	until := DateOf(ch.env.Now.Add(p.DownloadTTL).In(loc)).EndIn(loc)
	r.DownloadUntil, r.Downloads = &until, 0
	ch.eff.Outbox = append(ch.eff.Outbox, &OutboxItem{ID: ch.env.NewID(), Kind: OutboxResultsExpiry, RequestID: r.ID, RunAt: until})
	if r.Type == TypePortability && r.Transmit.To != "" {
		ch.transmit()
	}
}

// DownloadOpen says whether the subject can download the case's files now,
// and if not, why (the message key of the page that tells them).
func DownloadOpen(r *Request, p Policy, now time.Time) error {
	switch {
	case !GivesResults(r.Type) || r.Status != StatusCompleted || r.DownloadUntil == nil:
		return &Error{Code: ENOTFOUND, Message: "error.download.none"}
	case len(r.Results) == 0 || !now.Before(*r.DownloadUntil):
		return &Error{Code: EGONE, Message: "error.download.expired"}
	case r.Downloads >= p.MaxDownloads:
		return &Error{Code: EGONE, Message: "error.download.used_up", Params: map[string]any{"max": p.MaxDownloads}}
	}
	return nil
}

// AskDownloadCode sends the subject a fresh code that, with the status
// link, opens the case's files: a second factor, so that a forwarded or
// leaked status link alone does not give the data away. At most one code a
// ResendInterval; a new code supersedes the older ones.
func AskDownloadCode(env Env, c *Case, lastCodeAt time.Time) (*Effect, error) {
	p := env.policy()
	if err := DownloadOpen(c.Request, p, env.Now); err != nil {
		return nil, err
	}
	if !lastCodeAt.IsZero() && env.Now.Sub(lastCodeAt) < p.ResendInterval {
		return nil, &Error{Code: ERATELIMIT, Message: "error.download.code_wait"}
	}
	ch := begin(env, c, ActorSubject(""))
	code := &DownloadCode{ID: env.NewID(), State: VerificationActive, ExpiresAt: env.Now.Add(p.DownloadCodeTTL)}
	ch.eff.NewDownloadCode = code
	ch.mail(MailPayload{Template: MailDownloadCode, VerificationID: code.ID})
	ch.eff.Events = append(ch.eff.Events, &Event{Kind: EventDownloadCode, RequestID: c.Request.ID, At: env.Now,
		Actor: ActorSubject("").ID, From: c.Request.Status, To: c.Request.Status})
	return ch.eff, nil
}

// Download decides a download the subject asks for with a code: the code
// must match the newest live code (TryCode's rules: a wrong code counts,
// too many lock it), the window must be open and the downloads not used
// up. A download is counted and audited before the file is sent. The
// effect of a refused code records the attempt; the error says why.
func Download(env Env, c *Case, code DownloadCode, matches bool, name, clientIP string) (*Effect, error) {
	p := env.policy()
	r := c.Request
	if err := DownloadOpen(r, p, env.Now); err != nil {
		return nil, err
	}
	if _, ok := r.Result(name); !ok {
		return nil, &Error{Code: ENOTFOUND, Message: "error.download.none"}
	}
	if code.ID == "" {
		return nil, &Error{Code: ECONFLICT, Message: "error.download.no_code"}
	}
	attempts, lock, err := TryCode(code, matches, p, env.Now)
	if err != nil {
		if attempts == code.Attempts {
			return &Effect{}, err
		}
		return &Effect{DownloadCodeAttempts: &CodeAttempts{ID: code.ID, Attempts: attempts, Lock: lock}}, err
	}
	ch := begin(env, c, ActorSubject(clientIP))
	ch.r.Downloads++
	ch.r.UpdatedAt = env.Now
	ch.eff.Request = ch.r
	ch.eff.Events = append(ch.eff.Events, &Event{Kind: EventDownloaded, RequestID: r.ID, At: env.Now, Actor: ActorSubject(clientIP).ID,
		From: r.Status, To: r.Status, Data: map[string]string{"file": name, "download": strconv.Itoa(ch.r.Downloads)}})
	return ch.eff, nil
}

// ResultsExpired records that the case's files (the assembled ones and the
// data collected from the systems) are deleted at the end of the download
// window. An empty effect says there is nothing to delete now: the files
// went before, or the case was reopened (its next completion opens a new
// window).
func ResultsExpired(env Env, c *Case) (*Effect, error) {
	r := c.Request
	if len(r.Results) == 0 || r.Status != StatusCompleted || r.DownloadUntil == nil || env.Now.Before(*r.DownloadUntil) {
		return &Effect{}, nil
	}
	ch := begin(env, c, ActorService)
	names := make([]string, len(r.Results))
	for i, f := range r.Results {
		names[i] = f.Name
	}
	ch.r.Results, ch.r.UpdatedAt = nil, env.Now
	ch.eff.Request = ch.r
	ch.eff.Events = append(ch.eff.Events, &Event{Kind: EventResultsDeleted, RequestID: r.ID, At: env.Now, Actor: ActorService.ID,
		From: r.Status, To: r.Status, Data: map[string]string{"files": strings.Join(names, ",")}})
	if t := &ch.r.Transmit; t.State == TransmitPending {
		// The package is gone: a transmission still trying ends here.
		now := env.Now
		t.State, t.At, t.Reason = TransmitFailed, &now, "the download window ended before the package could be sent"
		ch.eff.CancelKinds = append(ch.eff.CancelKinds, OutboxTransmit)
		ch.eff.Events = append(ch.eff.Events, &Event{Kind: EventTransmissionFailed, RequestID: r.ID, At: now, Actor: ActorService.ID,
			From: r.Status, To: r.Status, Reason: t.Reason, Data: map[string]string{"recipient": t.To, "organisation": r.TransmitName(c.Controller),
				"attempts": strconv.Itoa(t.Attempts)}})
	}
	return ch.eff, nil
}

// ResultService is the worker's side of the files of access and
// portability cases.
type ResultService interface {
	// Assembly returns the case whose files are to be assembled, and its
	// redactions (by task and line).
	Assembly(ctx context.Context, caseID string) (*Case, []*Redaction, error)
	// Assembled records the files made from the case's data with that many
	// redactions applied (ResultsAssembled) and completes the claimed
	// item; ECONFLICT when the case no longer wants them (the item is
	// completed all the same, the files are to be dropped).
	Assembled(ctx context.Context, claimed *OutboxItem, files []ResultFile, redactions int) error
	// Expired deletes the case's files through del and records it when
	// the window has ended (ResultsExpired), and completes the claimed
	// item; a failed deletion records nothing.
	Expired(ctx context.Context, claimed *OutboxItem, del func(context.Context) error) error
	// Transmission returns the case whose package a transmission sends
	// (OutboxTransmit).
	Transmission(ctx context.Context, caseID string) (*Case, error)
	// Transmitted records one upload of the package by the claimed item
	// (RecordTransmission) and completes the item, in one transaction; a
	// report the case no longer wants (ECONFLICT) completes the item
	// without being recorded, and the answer says so.
	Transmitted(ctx context.Context, claimed *OutboxItem, attempt int, o TransmitOutcome) error
}

// CodeAttempts is the wrong tries an effect records on a download code,
// and whether they lock it.
type CodeAttempts struct {
	ID       string
	Attempts int
	Lock     bool
}
