package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
)

// subjectJSON is the data subject in requests and answers.
type subjectJSON struct {
	Email      string `json:"email"`
	Name       string `json:"name,omitempty"`
	Phone      string `json:"phone,omitempty"`
	CustomerID string `json:"customer_id,omitempty"`
}

// createRequestJSON is the body of POST /api/v1/requests.
type createRequestJSON struct {
	Type       string       `json:"type"`
	Controller string       `json:"controller"`
	Subject    *subjectJSON `json:"subject"`
	Language   string       `json:"language"`
	Details    string       `json:"details"`
	Regulation string       `json:"regulation"`
	ReceivedAt string       `json:"received_at"`
	Channel    string       `json:"channel"`
	// Objection says which objection of Art 21 an objection makes.
	Objection string `json:"objection"`
	// Verified and VerificationMethod: the calling system has authenticated
	// the subject already (API keys only).
	Verified           bool   `json:"verified"`
	VerificationMethod string `json:"verification_method"`
	// TransmitTo (portability only) asks for the package to go straight
	// to one of the controller's portability recipients, or "other" with
	// TransmitOrganisation naming one not set up (Art 20(2)).
	TransmitTo           string `json:"transmit_to"`
	TransmitOrganisation string `json:"transmit_organisation"`
	// Agent is the authorised agent who makes a CCPA request for the
	// subject (API keys only).
	Agent *agentJSON `json:"agent"`
}

// agentJSON is an authorised agent in requests and answers.
type agentJSON struct {
	Name            string `json:"name"`
	Email           string `json:"email"`
	Relationship    string `json:"relationship"`
	Proof           string `json:"proof"`
	PowerOfAttorney bool   `json:"power_of_attorney"`
}

// transmissionJSON is the direct transmission of a portability case's
// package the subject asked for, and how it stands.
type transmissionJSON struct {
	To           string `json:"to"`
	Organisation string `json:"organisation,omitempty"`
	State        string `json:"state,omitempty"`
	Attempts     int    `json:"attempts,omitempty"`
	Status       int    `json:"status,omitempty"`
	At           string `json:"at,omitempty"`
	Receipt      string `json:"receipt,omitempty"`
	SHA256       string `json:"sha256,omitempty"`
	Bytes        int64  `json:"bytes,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

// transmissionOf presents a request's transmission, nil when none was
// asked for.
func transmissionOf(r *dsar.Request) *transmissionJSON {
	t := r.Transmit
	if t.To == "" {
		return nil
	}
	out := &transmissionJSON{To: t.To, Organisation: t.Organisation, State: string(t.State), Attempts: t.Attempts, Status: t.Status,
		Receipt: t.Receipt, SHA256: t.SHA256, Bytes: t.Bytes, Reason: t.Reason}
	if t.At != nil {
		out.At = stamp(*t.At)
	}
	return out
}

// requestJSON is a request in answers.
type requestJSON struct {
	ID                string            `json:"id"`
	Reference         string            `json:"reference"`
	Type              string            `json:"type"`
	Status            string            `json:"status"`
	Controller        string            `json:"controller"`
	Regulation        string            `json:"regulation"`
	Language          string            `json:"language"`
	Channel           string            `json:"channel"`
	Subject           *subjectJSON      `json:"subject,omitempty"`
	Details           *string           `json:"details,omitempty"`
	ReceivedAt        string            `json:"received_at"`
	DueDate           string            `json:"due_date"`
	Deadline          string            `json:"deadline"`
	ExtensionNoticeBy string            `json:"extension_notice_by"`
	AcknowledgeBy     string            `json:"acknowledge_by,omitempty"`
	Extended          bool              `json:"extended"`
	ExtensionReason   string            `json:"extension_reason,omitempty"`
	Paused            bool              `json:"paused"`
	PausedDays        int               `json:"paused_days"`
	Overdue           bool              `json:"overdue"`
	ClosedAt          string            `json:"closed_at,omitempty"`
	DuplicateOf       string            `json:"duplicate_of,omitempty"`
	Objection         string            `json:"objection,omitempty"`
	Assignee          string            `json:"assignee,omitempty"`
	Verification      *verificationJSON `json:"verification,omitempty"`
	Agent             *agentJSON        `json:"agent,omitempty"`
	Approval          *approvalJSON     `json:"approval,omitempty"`
	Decision          *decisionJSON     `json:"decision,omitempty"`
	Tasks             *progressJSON     `json:"tasks,omitempty"`
	Results           *resultsJSON      `json:"results,omitempty"`
	Transmission      *transmissionJSON `json:"transmission,omitempty"`
	FurtherCopy       int               `json:"further_copy,omitempty"`
	CreatedAt         string            `json:"created_at"`
	UpdatedAt         string            `json:"updated_at"`
}

// stamp formats an instant as time.Time's MarshalJSON does (RFC 3339 with
// the fraction it has). Requests carry five instants and the queue lists up
// to 200 requests: formatted here, encoding/json writes them as plain
// strings instead of calling MarshalJSON and re-scanning its output.
func stamp(t time.Time) string { return t.Format(time.RFC3339Nano) }

// verificationJSON records that, when, by whom and how the subject's
// identity was verified.
type verificationJSON struct {
	At     string `json:"at"`
	By     string `json:"by"`
	Method string `json:"method"`
}

// approvalJSON records that, when and by whom the request was approved for
// execution in the connected systems.
type approvalJSON struct {
	At string `json:"at"`
	By string `json:"by"`
}

// decisionJSON is how a closed request was decided.
type decisionJSON struct {
	Summary string     `json:"summary,omitempty"`
	Kept    []keptJSON `json:"kept,omitempty"`
	Ground  string     `json:"ground,omitempty"`
	Text    string     `json:"text,omitempty"`
	Partial bool       `json:"partial,omitempty"`
	Part    string     `json:"part,omitempty"`
	Granted string     `json:"granted,omitempty"`
}

// progressJSON is how far a case's tasks in the systems have come.
type progressJSON struct {
	Total   int `json:"total"`
	Ended   int `json:"ended"`
	Failed  int `json:"failed"`
	Overdue int `json:"overdue"`
}

// toJSON presents a request. The subject's details are shown only to
// authenticated callers; the public gets the case facts it needs to follow
// up (reference, due date).
func toJSON(r *dsar.Request, actor dsar.Actor, now time.Time) requestJSON {
	out := requestJSON{
		ID: r.ID, Reference: r.Reference, Type: string(r.Type), Status: string(r.Status), Controller: r.Controller,
		Regulation: string(r.Regulation), Language: string(r.Language), Channel: string(r.Channel), Objection: string(r.Objection),
		ReceivedAt: stamp(r.ReceivedAt), DueDate: r.DueDate.String(), Deadline: stamp(r.Deadline),
		ExtensionNoticeBy: r.ExtensionNoticeBy.String(), AcknowledgeBy: r.AcknowledgeBy.String(),
		Extended: r.Extended, Paused: r.PausedAt != nil, PausedDays: r.PausedDays, Overdue: r.Overdue(now),
		CreatedAt: stamp(r.CreatedAt), UpdatedAt: stamp(r.UpdatedAt),
	}
	if actor.Authenticated() {
		out.DuplicateOf, out.Assignee = r.DuplicateOf, r.Assignee
		if r.ClosedAt != nil {
			out.ClosedAt = stamp(*r.ClosedAt)
		}
		if r.VerifiedAt != nil {
			out.Verification = &verificationJSON{At: stamp(*r.VerifiedAt), By: r.VerifiedBy, Method: r.VerificationMethod}
		}
		if ag := r.Agent; ag != nil {
			out.Agent = &agentJSON{Name: ag.Name, Email: ag.Email, Relationship: ag.Relationship, Proof: ag.Proof, PowerOfAttorney: ag.PowerOfAttorney}
		}
		if r.ApprovedAt != nil {
			out.Approval = &approvalJSON{At: stamp(*r.ApprovedAt), By: r.ApprovedBy}
		}
		if d := r.Decision; d.Summary != "" || d.Ground != "" {
			out.Decision = &decisionJSON{Summary: d.Summary, Ground: string(d.Ground), Text: d.Text, Partial: d.Partial, Part: d.Part, Granted: d.Granted}
			for _, k := range d.Kept {
				out.Decision.Kept = append(out.Decision.Kept, keptJSON{What: k.What, Why: k.Why, Until: k.Until})
			}
		}
		if p := r.Progress; p != nil {
			out.Tasks = &progressJSON{Total: p.Total, Ended: p.Ended, Failed: p.Failed, Overdue: p.Overdue}
		}
		out.Results, out.FurtherCopy, out.Transmission = resultsOf(r), r.CopiesGiven, transmissionOf(r)
		out.Subject = &subjectJSON{Email: r.Subject.Email, Name: r.Subject.Name, Phone: r.Subject.Phone, CustomerID: r.Subject.CustomerID}
		out.Details = &r.Details
		out.ExtensionReason = r.ExtensionReason
	}
	return out
}

func (s *Server) createRequest(c echo.Context) error {
	var body createRequestJSON
	if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
		return err
	}
	if l := dsar.Language(body.Language); l.Valid() {
		c.Set(langKey, l)
	}
	in := dsar.NewRequest{
		Type: dsar.RequestType(body.Type), Controller: body.Controller, Language: dsar.Language(body.Language),
		Details: body.Details, Regulation: dsar.Regulation(body.Regulation), Channel: dsar.Channel(body.Channel),
		Verified: body.Verified, VerificationMethod: body.VerificationMethod, Objection: dsar.ObjectionKind(body.Objection),
		TransmitTo: body.TransmitTo, TransmitOrganisation: body.TransmitOrganisation,
	}
	if body.Subject != nil {
		in.Subject = dsar.Subject{Email: body.Subject.Email, Name: body.Subject.Name, Phone: body.Subject.Phone, CustomerID: body.Subject.CustomerID}
	}
	if ag := body.Agent; ag != nil {
		in.Agent = &dsar.Agent{Name: ag.Name, Email: ag.Email, Relationship: ag.Relationship, Proof: ag.Proof, PowerOfAttorney: ag.PowerOfAttorney}
	}
	if body.ReceivedAt != "" {
		// A timestamp that cannot be read is reported on its own: the
		// domain validates the submission once, from what was read.
		t, err := time.Parse(time.RFC3339, body.ReceivedAt)
		if err != nil {
			return dsar.Invalid(dsar.FieldError{Field: "received_at", Message: "field.timestamp"})
		}
		in.ReceivedAt = &t
	}
	actor := actorOf(c)
	req, err := s.cfg.Requests.Create(c.Request().Context(), actor, in)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/requests/"+req.ID)
	return c.JSON(http.StatusCreated, toJSON(req, actor, req.CreatedAt))
}

func (s *Server) getRequest(c echo.Context) error {
	actor := actorOf(c)
	req, err := s.cfg.Requests.Get(c.Request().Context(), actor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

// listJSON is a page of requests.
type listJSON struct {
	Data       []requestJSON `json:"data"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

// listParams are the query parameters GET /api/v1/requests accepts.
var listParams = map[string]bool{
	"status": true, "type": true, "controller": true, "overdue": true,
	"due_before": true, "due_after": true, "sort": true, "cursor": true, "limit": true,
	"assignee": true, "search": true, "approved": true, "tasks": true,
}

func (s *Server) listRequests(c echo.Context) error {
	q := c.QueryParams()
	var fields []dsar.FieldError
	for k := range q {
		if !listParams[k] {
			fields = append(fields, dsar.FieldError{Field: k, Message: "field.unknown"})
		}
	}
	list := func(name string) []string {
		var out []string
		for _, v := range q[name] {
			for _, p := range strings.Split(v, ",") {
				if p = strings.TrimSpace(p); p != "" {
					out = append(out, p)
				}
			}
		}
		return out
	}
	f := dsar.RequestFilter{Controller: list("controller"), Sort: q.Get("sort"), Cursor: q.Get("cursor"),
		Assignee: strings.TrimSpace(q.Get("assignee")), Search: strings.TrimSpace(q.Get("search"))}
	for _, v := range list("status") {
		if !dsar.Status(v).Valid() {
			fields = append(fields, dsar.FieldError{Field: "status", Message: "field.enum", Params: map[string]any{"allowed": dsar.Statuses}})
			break
		}
		f.Status = append(f.Status, dsar.Status(v))
	}
	for _, v := range list("type") {
		if !dsar.RequestType(v).Valid() {
			fields = append(fields, dsar.FieldError{Field: "type", Message: "field.enum", Params: map[string]any{"allowed": dsar.RequestTypes}})
			break
		}
		f.Type = append(f.Type, dsar.RequestType(v))
	}
	if v := q.Get("tasks"); v != "" {
		if v != dsar.TasksFailing {
			fields = append(fields, dsar.FieldError{Field: "tasks", Message: "field.enum", Params: map[string]any{"allowed": []string{dsar.TasksFailing}}})
		}
		f.Tasks = v
	}
	for name, dst := range map[string]**bool{"overdue": &f.Overdue, "approved": &f.Approved} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				fields = append(fields, dsar.FieldError{Field: name, Message: "field.enum", Params: map[string]any{"allowed": []string{"true", "false"}}})
			}
			*dst = &b
		}
	}
	for name, dst := range map[string]**dsar.Date{"due_before": &f.DueBefore, "due_after": &f.DueAfter} {
		if v := q.Get(name); v != "" {
			d, err := dsar.ParseDate(v)
			if err != nil {
				fields = append(fields, dsar.FieldError{Field: name, Message: "field.date"})
				continue
			}
			*dst = &d
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			fields = append(fields, dsar.FieldError{Field: "limit", Message: "field.integer"})
		}
		f.Limit = n
	}
	if len(fields) > 0 {
		return malformed{dsar.Invalid(fields...)}
	}
	actor := actorOf(c)
	page, err := s.cfg.Requests.List(c.Request().Context(), actor, f)
	if de := (*dsar.Error)(nil); errors.As(err, &de) && de.Code == dsar.EINVALID {
		return malformed{de} // a bad sort or cursor is a bad query, like the rest
	}
	if err != nil {
		return err
	}
	now := s.cfg.Clock.Now()
	out := listJSON{Data: make([]requestJSON, len(page.Requests)), NextCursor: page.NextCursor}
	for i, r := range page.Requests {
		out.Data[i] = toJSON(r, actor, now)
	}
	return c.JSON(http.StatusOK, out)
}

// eventJSON is one audit event.
type eventJSON struct {
	ID       int64             `json:"id"`
	Seq      int64             `json:"seq,omitempty"`
	At       time.Time         `json:"at"`
	Actor    string            `json:"actor"`
	ClientIP string            `json:"client_ip,omitempty"`
	Kind     string            `json:"kind"`
	From     string            `json:"from,omitempty"`
	To       string            `json:"to,omitempty"`
	Reason   string            `json:"reason,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
	Hash     string            `json:"hash,omitempty"`
	PrevHash string            `json:"prev_hash,omitempty"`
}

// eventsCSVHeader is the header row of the CSV export of an audit trail.
var eventsCSVHeader = []string{"id", "seq", "at", "actor", "client_ip", "kind", "from", "to", "reason", "data", "hash", "prev_hash"}

// listEvents answers a request's audit trail as JSON or, for auditors'
// spreadsheets, as CSV (format=csv).
func (s *Server) listEvents(c echo.Context) error {
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "csv" {
		return malformed{dsar.Invalid(dsar.FieldError{Field: "format", Message: "field.enum",
			Params: map[string]any{"allowed": []string{"json", "csv"}}})}
	}
	evs, err := s.cfg.Requests.Events(c.Request().Context(), actorOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	if format == "csv" {
		return eventsCSV(c, evs)
	}
	out := struct {
		Data []eventJSON `json:"data"`
	}{Data: make([]eventJSON, len(evs))}
	for i, e := range evs {
		out.Data[i] = eventJSON{ID: e.ID, Seq: e.Seq, At: e.At, Actor: e.Actor, ClientIP: e.ClientIP, Kind: string(e.Kind),
			From: string(e.From), To: string(e.To), Reason: e.Reason, Data: e.Data, Hash: e.Hash, PrevHash: e.PrevHash}
	}
	return c.JSON(http.StatusOK, out)
}

// eventsCSV writes the trail as CSV (RFC 4180) with a header row; data is
// its JSON object, and seq and the hashes are empty for events written
// before the chain began. The cells are the stored values, unaltered, so
// that every row's hash can be recomputed from the file.
func eventsCSV(c echo.Context, evs []*dsar.Event) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(eventsCSVHeader) // a bytes.Buffer does not fail
	for _, e := range evs {
		data := []byte("{}")
		if len(e.Data) > 0 {
			data, _ = json.Marshal(e.Data) // a map of strings always encodes
		}
		seq := ""
		if e.Seq > 0 {
			seq = strconv.FormatInt(e.Seq, 10)
		}
		_ = w.Write([]string{strconv.FormatInt(e.ID, 10), seq, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.ClientIP,
			string(e.Kind), string(e.From), string(e.To), e.Reason, string(data), e.Hash, e.PrevHash})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="request-`+c.Param("id")+`-events.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

func (s *Server) extendRequest(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Reason string `json:"reason"`
	}) (*dsar.Request, error) {
		return s.cfg.Requests.Extend(ctx, actor, id, body.Reason)
	})
}

func (s *Server) pauseRequest(c echo.Context) error {
	return changeCase(s, c, func(ctx context.Context, actor dsar.Actor, id string, body *struct {
		Reason string `json:"reason"`
		Note   string `json:"note"`
	}) (*dsar.Request, error) {
		return s.cfg.Requests.Pause(ctx, actor, id, dsar.PauseReason(body.Reason), body.Note)
	})
}

func (s *Server) resumeRequest(c echo.Context) error {
	if c.Request().ContentLength > 0 {
		var body struct{}
		if err := decodeJSON(c, s.cfg.BodyLimit, &body); err != nil {
			return err
		}
	}
	actor := actorOf(c)
	req, err := s.cfg.Requests.Resume(c.Request().Context(), actor, c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJSON(req, actor, s.cfg.Clock.Now()))
}

// encodeJSON writes v as JSON.
func encodeJSON(w http.ResponseWriter, v any) error { return json.NewEncoder(w).Encode(v) }
