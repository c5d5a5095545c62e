package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/workflows/mail"
)

// The formats the document uses that kin-openapi does not check by itself.
func init() {
	openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
	openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
}

// loadOpenAPI loads and validates the embedded OpenAPI document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context, openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := loadOpenAPI(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
	if doc.Components == nil || doc.Components.SecuritySchemes["bearer"] == nil {
		t.Fatal("no bearer security scheme")
	}
	// Every operation answers with documented statuses only, and every
	// error answer of the API is a problem document. The pages answer errors
	// with a page, but for a body over the limit, refused before the page is
	// reached, and a failure so bad that not even the error page shows.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				t.Errorf("%s %s has no operationId", method, path)
			}
			page := slices.Contains(op.Tags, "pages")
			if page && (op.Security == nil || len(*op.Security) != 0) {
				t.Errorf("%s %s: a page takes no key, so it should say security: []", method, path)
			}
			// The officers' pages take the session cookie, never a key; but
			// for the sign-in pages themselves.
			officers := slices.Contains(op.Tags, "officers")
			if officers {
				switch {
				case op.Security == nil:
					t.Errorf("%s %s: an officers' page should say its security", method, path)
				case strings.HasPrefix(path, "/signin") && len(*op.Security) != 0:
					t.Errorf("%s %s: the sign-in page should say security: []", method, path)
				case !strings.HasPrefix(path, "/signin") && (len(*op.Security) != 1 || len((*op.Security)[0]) != 1 || (*op.Security)[0]["session"] == nil):
					t.Errorf("%s %s: an officers' page should take the session cookie only", method, path)
				}
			}
			opendsr := slices.Contains(op.Tags, "opendsr")
			for code, resp := range op.Responses.Map() {
				problem := resp.Value.Content.Get("application/problem+json") != nil
				html := resp.Value.Content.Get("text/html") != nil
				switch {
				case code < "400" || path == "/readyz":
				case opendsr && code != "500":
					// The OpenDSR intake answers OpenDSR error bodies.
					if mt := resp.Value.Content.Get("application/json"); mt == nil || mt.Schema.Ref != "#/components/schemas/OpenDSRError" || problem {
						t.Errorf("%s %s: %s is not an OpenDSR error", method, path, code)
					}
				case officers:
					// An error page, or a problem document where the page
					// is not reached (too large, not an admin) or is JSON.
					if !html && !problem {
						t.Errorf("%s %s: %s is neither an HTML page nor a problem document", method, path, code)
					}
				case !page && !problem:
					t.Errorf("%s %s: %s is not a problem document", method, path, code)
				case page && code == "413" && (!problem || html):
					t.Errorf("%s %s: 413 should be a problem document only", method, path)
				case page && code != "413" && !html:
					t.Errorf("%s %s: %s is not an HTML page", method, path, code)
				case page && code != "413" && code != "500" && problem:
					t.Errorf("%s %s: %s is a page, not a problem document", method, path, code)
				}
			}
			// Every request body is decoded strictly or, for the pages'
			// forms, names every field the page sends. The one exception
			// is a third party's protocol: an OpenDSR processor's callback
			// and an OpenDSR client's request, whose fields of their own
			// are ignored, and which say so explicitly.
			if op.RequestBody != nil {
				for mt, c := range op.RequestBody.Value.Content {
					ap := c.Schema.Value.AdditionalProperties.Has
					if op.OperationID == "openDSRCallback" || op.OperationID == "openDSRSubmit" {
						if ap == nil || !*ap {
							t.Errorf("%s %s: the %s body should say additionalProperties: true", method, path, mt)
						}
					} else if ap == nil || *ap {
						t.Errorf("%s %s: the %s body should have additionalProperties: false", method, path, mt)
					}
				}
			}
		}
	}
	// The enums of the document are those of the Go code.
	enums := map[string][]string{
		"RequestType":  enumStrings(dsar.RequestTypes),
		"Status":       enumStrings(dsar.Statuses),
		"Channel":      enumStrings(dsar.Channels),
		"Regulation":   enumStrings(dsar.Regulations),
		"Language":     enumStrings(dsar.Languages),
		"PauseReason":  {string(dsar.PauseIdentity), string(dsar.PauseClarification)},
		"SortOrder":    store.SortOrders(),
		"Jurisdiction": enumStrings(dsar.Jurisdictions),
		"EventKind": enumStrings([]dsar.EventKind{dsar.EventCreated, dsar.EventTransition, dsar.EventExtended, dsar.EventPaused,
			dsar.EventResumed, dsar.EventReminder, dsar.EventMailSent, dsar.EventVerified, dsar.EventMessage, dsar.EventVerifyReminder,
			dsar.EventAssigned, dsar.EventNote, dsar.EventApproved, dsar.EventTask, dsar.EventTasksEnded, dsar.EventPersonalDataRemoved,
			dsar.EventResultsAssembled, dsar.EventRedacted, dsar.EventDownloadCode, dsar.EventDownloaded, dsar.EventResultsDeleted, dsar.EventResultsViewed,
			dsar.EventTransmitted, dsar.EventTransmissionFailed, dsar.EventOpenDSRCallbackFailed, dsar.EventPartiallyRefused,
			dsar.EventObjectionKind, dsar.EventDocumentViewed}),
		"Ground":           enumStrings(dsar.Grounds),
		"Scope":            enumStrings(dsar.Scopes),
		"QuestionKind":     enumStrings([]dsar.MessageKind{dsar.MessageClarification, dsar.MessageIdentity}),
		"MessageKind":      enumStrings([]dsar.MessageKind{dsar.MessageClarification, dsar.MessageIdentity, dsar.MessageReply, dsar.MessageNote, dsar.MessageFee, dsar.MessageReopened}),
		"WebhookEventType": enumStrings(dsar.WebhookEventTypes),
	}
	for name, want := range enums {
		s := doc.Components.Schemas[name]
		if s == nil {
			t.Errorf("no schema %s", name)
			continue
		}
		var got []string
		for _, v := range s.Value.Enum {
			got = append(got, fmt.Sprint(v))
		}
		if !slices.Equal(got, want) {
			t.Errorf("schema %s: enum %v, the code has %v", name, got, want)
		}
	}
	// The field limits are those of validate.go.
	limits := []struct {
		schema, field string
		want          int
	}{
		{"SubjectInput", "email", dsar.MaxEmailLength},
		{"SubjectInput", "name", dsar.MaxNameLength},
		{"SubjectInput", "phone", dsar.MaxPhoneLength},
		{"SubjectInput", "customer_id", dsar.MaxIDLength},
		{"CreateRequest", "details", dsar.MaxDetailsLength},
		{"ExtendRequest", "reason", dsar.MaxReasonLength},
		{"PauseRequest", "note", dsar.MaxReasonLength},
		{"CreateRequest", "verification_method", dsar.MaxNameLength},
		{"CreateRequest", "transmit_organisation", dsar.MaxOrganisationLength},
		{"AgentInput", "name", dsar.MaxNameLength},
		{"AgentInput", "email", dsar.MaxEmailLength},
		{"AgentInput", "relationship", dsar.MaxNameLength},
		{"AgentInput", "proof", dsar.MaxReasonLength},
		{"AskRequest", "body", dsar.MaxReasonLength},
		{"VerifyRequest", "method", dsar.MaxNameLength},
		{"KeptInput", "what", dsar.MaxReasonLength},
		{"KeptInput", "why", dsar.MaxReasonLength},
		{"CompleteRequest", "summary", dsar.MaxReasonLength},
		{"RefuseRequest", "text", dsar.MaxReasonLength},
		{"NoteRequest", "body", dsar.MaxReasonLength},
		{"ReopenRequest", "reason", dsar.MaxReasonLength},
		{"RequestForm", "email", dsar.MaxEmailLength},
		{"RequestForm", "name", dsar.MaxNameLength},
		{"RequestForm", "phone", dsar.MaxPhoneLength},
		{"RequestForm", "customer_id", dsar.MaxIDLength},
		{"RequestForm", "details", dsar.MaxDetailsLength},
		{"RequestForm", "transmit_organisation", dsar.MaxOrganisationLength},
		{"ReplyForm", "body", dsar.MaxDetailsLength},
		{"ReplyUploadForm", "body", dsar.MaxDetailsLength},
		{"Message", "body", dsar.MaxDetailsLength},
	}
	for _, l := range limits {
		p := doc.Components.Schemas[l.schema].Value.Properties[l.field]
		if p == nil || p.Value.MaxLength == nil || int(*p.Value.MaxLength) != l.want {
			t.Errorf("%s.%s: maxLength should be %d", l.schema, l.field, l.want)
		}
	}
	if m := doc.Components.Schemas["Document"].Value.Properties["size"].Value.Max; m == nil || int(*m) != dsar.MaxDocumentSize {
		t.Errorf("Document.size: maximum should be %d", dsar.MaxDocumentSize)
	}
	for _, name := range []string{"CreateRequest", "SubjectInput", "AgentInput", "ExtendRequest", "PauseRequest", "ResumeRequest",
		"AskRequest", "VerifyRequest", "CompleteRequest", "KeptInput", "RefuseRequest",
		"AssignRequest", "NoteRequest", "ReopenRequest", "SignInForm", "PasswordForm", "CaseActionForm",
		"CSRFForm", "RequestForm", "CodeForm", "ReplyForm", "ReplyUploadForm", "WithdrawForm",
		"TaskDoneRequest", "TaskSkipRequest", "RetryRequest"} {
		if ap := doc.Components.Schemas[name].Value.AdditionalProperties.Has; ap == nil || *ap {
			t.Errorf("request schema %s should have additionalProperties: false", name)
		}
	}
}

func enumStrings[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

// TestOpenAPIRoutes checks that the document describes exactly the routes
// the server registers.
func TestOpenAPIRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	// With everything that adds routes: the subject flow's pages, the
	// officers' pages, the local mailbox, /metrics and the queue monitor.
	e := newContractEnv(t, func(cfg *api.Config, e *contractEnv) {
		cfg.Subjects = store.NewSubjects(e.db)
		cfg.Users = store.NewUsers(e.db)
		box, err := mail.NewMailbox(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cfg.Mailbox = box
		cfg.Metrics = prometheus.NewRegistry()
		cfg.Queue = contractRedis
	})
	registered := map[string]bool{}
	undocumentable := 0
	for _, r := range e.srv.Routes() {
		method, path, _ := strings.Cut(r, " ")
		// The queue monitor's route takes every method echo knows, also
		// those OpenAPI has no operation for.
		if method == http.MethodConnect || method == echo.PROPFIND || method == echo.REPORT {
			if !strings.HasPrefix(path, "/admin/queues") {
				t.Errorf("route %s uses a method OpenAPI cannot describe", r)
			}
			undocumentable++
			continue
		}
		parts := strings.Split(path, "/")
		for i, p := range parts {
			if name, ok := strings.CutPrefix(p, ":"); ok {
				parts[i] = "{" + name + "}"
			}
			if p == "*" {
				parts[i] = "{path}" // any rest of the path
			}
		}
		registered[method+" "+strings.Join(parts, "/")] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	for _, r := range slices.Sorted(maps.Keys(registered)) {
		if !documented[r] {
			t.Errorf("route %s is registered but not documented", r)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(documented)) {
		if !registered[r] {
			t.Errorf("%s is documented but not registered", r)
		}
	}
	if len(registered) != 115 || undocumentable != 6 {
		t.Errorf("%d routes registered (and %d OpenAPI cannot describe), want 115 (and 6): %v",
			len(registered), undocumentable, slices.Sorted(maps.Keys(registered)))
	}
}

// contractLimiter is an in-memory RateLimiter with fixed one-minute windows on
// the test's clock.
type contractLimiter struct {
	clock dsar.Clock
	mu    sync.Mutex
	start map[string]time.Time
	used  map[string]int
}

func newContractLimiter(clock dsar.Clock) *contractLimiter {
	return &contractLimiter{clock: clock, start: map[string]time.Time{}, used: map[string]int{}}
}

func (l *contractLimiter) Allow(_ context.Context, key string, perMinute int) (bool, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if s, ok := l.start[key]; !ok || now.Sub(s) >= time.Minute {
		l.start[key], l.used[key] = now, 0
	}
	if l.used[key] >= perMinute {
		return false, l.start[key].Add(time.Minute).Sub(now), nil
	}
	l.used[key]++
	return true, 0, nil
}

// contractCoverage records the statuses seen for each documented operation.
type contractCoverage struct {
	mu   sync.Mutex
	seen map[string]map[int]bool
}

func (c *contractCoverage) add(op string, status int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]map[int]bool{}
	}
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][status] = true
}

// contractEnv is a server on a fresh database, reached over real HTTP, whose every
// exchange is checked against the document.
type contractEnv struct {
	clock  *dsar.ManualClock
	db     *store.DB
	srv    *api.Server
	http   *httptest.Server
	doc    *openapi3.T
	router routers.Router
	keys   map[string]string // name -> secret
	keyIDs map[string]string // name -> key ID
	// users are the officers' accounts by the name of the key of the same
	// role and controllers (their password is contractPassword).
	users    map[string]*dsar.User
	notReady atomic.Bool
	cov      *contractCoverage
	sso      *mockoidc.MockOIDC
}

// The API keys of every contractEnv.
var contractKeys = []struct {
	name        string
	role        dsar.Role
	controllers []string
}{
	{"admin", dsar.RoleAdmin, nil},
	{"officer", dsar.RoleOfficer, []string{"nte", "keto-diets"}},
	{"intility", dsar.RoleOfficer, []string{"intility"}},
	{"digiref", dsar.RoleOfficer, []string{"digiref"}},
	{"auditor", dsar.RoleAuditor, []string{"nte"}},
	{"system", dsar.RoleSystem, []string{"nte"}},
}

const contractBodyLimit = 4096

// contractPassword is the password of every user of a contractEnv, and
// contractMetricsToken the token that may read /metrics.
const (
	contractPassword     = "contract password 123"
	contractMetricsToken = "contract-metrics-token"
)

// contractRedis is the queue monitor's Redis: it is never reached, as the
// contract only asks for the monitor without an admin's session.
var contractRedis = asynq.RedisClientOpt{Addr: "127.0.0.1:1"}

func newContractEnv(t *testing.T, configure func(*api.Config, *contractEnv)) *contractEnv {
	t.Helper()
	e := &contractEnv{
		clock:  dsar.NewManualClock(time.Date(2025, 4, 17, 8, 15, 0, 0, time.UTC)),
		doc:    loadOpenAPI(t),
		keys:   map[string]string{},
		keyIDs: map[string]string{},
		users:  map[string]*dsar.User{},
		cov:    &contractCoverage{},
	}
	e.db = storetest.Open(t, e.clock)
	ctx := context.Background()
	keys := store.NewAPIKeys(e.db)
	for _, k := range contractKeys {
		key, secret, err := keys.Create(ctx, k.name, k.role, k.controllers)
		if err != nil {
			t.Fatalf("create key %s: %v", k.name, err)
		}
		e.keys[k.name], e.keyIDs[k.name] = secret, key.ID
	}
	users := store.NewUsers(e.db)
	for _, k := range contractKeys {
		if k.role == dsar.RoleSystem {
			continue // no user has it
		}
		u, err := users.Create(ctx, k.name+"@dsar.example", contractPassword, k.role, k.controllers)
		if err != nil {
			t.Fatalf("create user %s: %v", k.name, err)
		}
		e.users[k.name] = u
	}
	box, err := mail.NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{
		Requests:    store.NewRequests(e.db),
		Cases:       store.NewRequests(e.db),
		Subjects:    store.NewSubjects(e.db),
		Tasks:       store.NewTasks(e.db),
		Suppression: store.NewRequests(e.db),
		Idempotency: store.NewIdempotency(e.db),
		Webhooks:    store.NewWebhooks(e.db),
		APIKeys:     keys,
		Controllers: e.db.Controllers,
		Keyring:     e.db.Keyring,
		Clock:       e.clock,
		Ready: func(context.Context) error {
			if e.notReady.Load() {
				return errors.New("database down")
			}
			return nil
		},
		Log:       slog.New(slog.DiscardHandler),
		BodyLimit: contractBodyLimit,
		// The officers' pages, the administration pages, the mailbox,
		// /metrics and the queue monitor.
		Users:        users,
		Admin:        store.NewAdmin(e.db, keys),
		Mailbox:      box,
		Metrics:      prometheus.NewRegistry(),
		Stats:        e.db,
		MetricsToken: contractMetricsToken,
		Queue:        contractRedis,
		Dashboard:    e.db,
		// The OpenDSR intake.
		OpenDSR:       store.NewOpenDSR(e.db),
		OpenDSRSigner: contractOpenDSRSigner(t),
	}
	// Single sign-on against a local provider.
	sso, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sso.Shutdown() })
	e.sso = sso
	cfg.OIDC = &api.OIDC{Issuer: sso.Issuer(), ClientID: sso.ClientID, ClientSecret: sso.ClientSecret, Name: "Entra ID"}
	if configure != nil {
		configure(&cfg, e)
	}
	srv, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e.srv = srv
	e.http = httptest.NewServer(srv)
	t.Cleanup(e.http.Close)
	e.router, err = legacy.NewRouter(e.doc)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// contractCall is one HTTP exchange of a contract test.
type contractCall struct {
	method, path string
	// body is sent as it is, with Content-Type application/json unless
	// contentType says otherwise; a non-string body is encoded as JSON.
	body        any
	contentType string
	// key names a key of the contractEnv; auth, when set, is sent as the
	// Authorization header instead.
	key, auth string
	lang      string // Accept-Language
	// csrf, for the pages' forms, is sent as the dsar_csrf cookie; a _csrf
	// field of the body that holds the same value is replaced by the token
	// the page would have given for that cookie (or for the session), as a
	// browser gets it.
	csrf string
	// session, for the officers' pages, is sent as the dsar_session cookie.
	session string
	// cookies are sent besides.
	cookies []*http.Cookie
	chunked bool // send the body without Content-Length
	// header holds more headers to send (a callback's signature).
	header http.Header
	want   int // the status expected
	// anyStatus accepts any status the document allows, instead of want.
	anyStatus bool
	// docRejects says the document itself declares the request invalid;
	// the server must then refuse it too, and the document must not accept
	// what the server refuses where it can say so.
	docRejects bool
}

// contractAnswer is what the server answered.
type contractAnswer struct {
	status int
	header http.Header
	body   []byte
}

func (a contractAnswer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("decode answer %s: %v", a.body, err)
	}
}

func (a contractAnswer) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	a.decode(t, &m)
	return m
}

// contractProblem is an answer read as a problem document.
type contractProblem struct {
	Type, Title, Code, Detail, Instance string
	Status                              int
	Errors                              []struct{ Field, Code, Message string }
}

func (a contractAnswer) problem(t *testing.T) contractProblem {
	t.Helper()
	var p contractProblem
	a.decode(t, &p)
	return p
}

func (p contractProblem) fields() map[string]string {
	out := map[string]string{}
	for _, f := range p.Errors {
		out[f.Field] = f.Code
	}
	return out
}

// contractBearerAuth is how the document's security schemes are checked: a
// bearer token, or the session cookie, must be sent; whether it is a good
// one is the server's business.
func contractBearerAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r := in.RequestValidationInput.Request
	switch in.SecuritySchemeName {
	case "bearer":
		if h := r.Header.Get("Authorization"); !strings.HasPrefix(h, "Bearer ") {
			return errors.New("no bearer token")
		}
	case "session":
		if ck, err := r.Cookie("dsar_session"); err != nil || ck.Value == "" {
			return errors.New("no session cookie")
		}
	default:
		return fmt.Errorf("unknown security scheme %q", in.SecuritySchemeName)
	}
	return nil
}

// do makes the call over HTTP, checks the status, and validates the request
// and the answer against the document.
func (e *contractEnv) do(t *testing.T, c contractCall) contractAnswer {
	t.Helper()
	var body []byte
	switch b := c.body.(type) {
	case nil:
	case string:
		body = []byte(b)
	case []byte:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	header := http.Header{}
	if c.body != nil {
		ct := c.contentType
		if ct == "" {
			ct = "application/json"
		}
		header.Set("Content-Type", ct)
	}
	switch {
	case c.auth != "":
		header.Set("Authorization", c.auth)
	case c.key != "":
		secret, ok := e.keys[c.key]
		if !ok {
			t.Fatalf("no key %q", c.key)
		}
		header.Set("Authorization", "Bearer "+secret)
	}
	if c.lang != "" {
		header.Set("Accept-Language", c.lang)
	}
	for k, v := range c.header {
		header[k] = v
	}
	var cookies []string
	if c.csrf != "" {
		cookies = append(cookies, (&http.Cookie{Name: "dsar_csrf", Value: c.csrf}).String())
		binding := "pre-session:" + c.csrf
		if c.session != "" {
			binding = "session:" + c.session
		}
		body = bytes.ReplaceAll(body, []byte(c.csrf), []byte(e.db.Keyring.Token("csrf", binding)))
	}
	if c.session != "" {
		cookies = append(cookies, (&http.Cookie{Name: "dsar_session", Value: c.session}).String())
	}
	for _, ck := range c.cookies {
		cookies = append(cookies, (&http.Cookie{Name: ck.Name, Value: ck.Value}).String())
	}
	if len(cookies) > 0 {
		header.Set("Cookie", strings.Join(cookies, "; "))
	}

	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
		if c.chunked {
			rd = io.MultiReader(rd) // hides the length: sent chunked
		}
	}
	req, err := http.NewRequest(c.method, e.http.URL+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	client := *e.http.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse } // a 303 is the answer
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.method, c.path, err)
	}
	defer resp.Body.Close()
	respBody, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", c.method, c.path, err)
	}
	a := contractAnswer{status: resp.StatusCode, header: resp.Header, body: respBody}
	if a.header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s: no X-Request-Id", c.method, c.path)
	}
	if a.status != c.want && !c.anyStatus {
		t.Errorf("%s %s: status %d, want %d; body %s", c.method, c.path, a.status, c.want, respBody)
	}

	// The same request, as the document sees it.
	vreq, err := http.NewRequest(c.method, "https://dsar.example.com"+c.path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	vreq.Header = header.Clone()
	route, params, err := e.router.FindRoute(vreq)
	if err != nil {
		t.Fatalf("%s %s is not in the document: %v", c.method, c.path, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: contractBearerAuth, MultiError: true},
	}
	err = openapi3filter.ValidateRequest(context.Background(), in)
	switch {
	case c.docRejects && err == nil:
		t.Errorf("%s %s: the document accepts this request, which the server refuses with %d", c.method, c.path, a.status)
	case !c.docRejects && err != nil:
		t.Errorf("%s %s: the document refuses this request: %v", c.method, c.path, err)
	}
	if c.docRejects && a.status < 400 {
		t.Errorf("%s %s: the document refuses this request but the server answered %d", c.method, c.path, a.status)
	}

	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 a.status,
		Header:                 a.header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	out.SetBodyBytes(a.body)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Errorf("%s %s: the answer %d does not match the document: %v\nheaders: %v\nbody: %s",
			c.method, c.path, a.status, err, a.header, a.body)
	}
	// Problems are written for people: no message key left untranslated.
	if a.header.Get("Content-Type") == "application/problem+json" {
		p := a.problem(t)
		if messageKey.MatchString(p.Title) {
			t.Errorf("%s %s: untranslated title %q", c.method, c.path, p.Title)
		}
		for _, f := range p.Errors {
			if messageKey.MatchString(f.Message) {
				t.Errorf("%s %s: untranslated message %q of %s", c.method, c.path, f.Message, f.Field)
			}
		}
	}
	e.cov.add(route.Method+" "+route.Path, a.status)
	return a
}

// create submits a request and returns the answer's object.
func (e *contractEnv) create(t *testing.T, key string, body map[string]any) map[string]any {
	t.Helper()
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: body, key: key, want: 201})
	if a.status != 201 {
		t.FailNow()
	}
	return a.object(t)
}

func contractID(t *testing.T, m map[string]any) string {
	t.Helper()
	id, ok := m["id"].(string)
	if !ok || id == "" {
		t.Fatalf("no id in %v", m)
	}
	return id
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(va, vb)
}

// checkFields compares top-level fields of an answer.
func checkFields(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case w == nil && ok:
			t.Errorf("%s = %v, want it absent", k, g)
		case w != nil && !ok:
			t.Errorf("%s is absent, want %v", k, w)
		case w != nil && fmt.Sprint(g) != fmt.Sprint(w):
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
}

var (
	mustTime = func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return v
	}
	unknownRequestID = "01966b2e-8f3a-7c41-9d2e-5b7a3f1c9e20"
)

// messageKey matches a catalog key such as "field.required".
var messageKey = regexp.MustCompile(`^(error|field)\.[a-z_.]+$`)

// TestContract drives every route through its main answers over HTTP and
// validates each exchange against the document.
func TestContract(t *testing.T) {
	e := newContractEnv(t, nil)
	rl := newContractEnv(t, func(cfg *api.Config, e *contractEnv) {
		cfg.Limiter = newContractLimiter(e.clock)
		cfg.PublicPerMinute, cfg.KeyPerMinute = 1, 1
	})
	rl.cov = e.cov
	// The vendor's page on a data map of its own: two of NTE's systems
	// reached by vendor mail.
	vendor := newContractEnv(t, nil)
	vendor.cov = e.cov
	// The subject's download, from a service that keeps case files.
	files, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dl := newContractEnv(t, func(cfg *api.Config, _ *contractEnv) { cfg.Blobs = files })
	dl.cov = e.cov

	scenarios := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"health", func(t *testing.T) { contractHealth(t, e) }},
		{"controllers", func(t *testing.T) { contractControllers(t, e) }},
		{"datamap", func(t *testing.T) { contractDataMap(t, e) }},
		{"create", func(t *testing.T) { contractCreate(t, e) }},
		{"create-invalid", func(t *testing.T) { contractCreateInvalid(t, e) }},
		{"transmit-to", func(t *testing.T) { contractTransmitTo(t, e) }},
		{"malformed", func(t *testing.T) { contractMalformed(t, e) }},
		{"too-large", func(t *testing.T) { contractTooLarge(t, e) }},
		{"list", func(t *testing.T) { contractList(t, e) }},
		{"get-and-events", func(t *testing.T) { contractGetAndEvents(t, e) }},
		{"events-export", func(t *testing.T) { contractEventsExport(t, e) }},
		{"extend", func(t *testing.T) { contractExtend(t, e) }},
		{"pause-resume", func(t *testing.T) { contractPauseResume(t, e) }},
		{"ask-messages", func(t *testing.T) { contractAskMessages(t, e) }},
		{"verify", func(t *testing.T) { contractVerify(t, e) }},
		{"documents", func(t *testing.T) { contractDocuments(t, e) }},
		{"complete", func(t *testing.T) { contractComplete(t, e) }},
		{"refuse", func(t *testing.T) { contractRefuse(t, e) }},
		{"assign", func(t *testing.T) { contractAssign(t, e) }},
		{"notes", func(t *testing.T) { contractNotes(t, e) }},
		{"reopen", func(t *testing.T) { contractReopen(t, e) }},
		{"approve", func(t *testing.T) { contractApprove(t, e) }},
		{"forward-and-fee", func(t *testing.T) { contractForwardAndFee(t, e) }},
		{"objection-and-actions", func(t *testing.T) { contractObjectionAndActions(t, e) }},
		{"tasks", func(t *testing.T) { contractTasks(t, e) }},
		{"export-upload", func(t *testing.T) { contractExportUpload(t, e) }},
		{"results", func(t *testing.T) { contractResults(t, e) }},
		{"suppression", func(t *testing.T) { contractSuppression(t, e) }},
		{"scopes-and-idempotency", func(t *testing.T) { contractScopes(t, e) }},
		{"webhooks", func(t *testing.T) { contractWebhooks(t, e) }},
		{"vendor-page", func(t *testing.T) { contractVendorPage(t, vendor) }},
		{"task-callback", func(t *testing.T) { contractTaskCallback(t, e) }},
		{"opendsr-callback", func(t *testing.T) { contractOpenDSRCallback(t, e) }},
		{"opendsr-intake", func(t *testing.T) { contractOpenDSRIntake(t, e) }},
		{"pages", func(t *testing.T) { contractPages(t, e) }},
		{"download", func(t *testing.T) { contractDownload(t, dl, files) }},
		{"signin", func(t *testing.T) { contractSignIn(t, e) }},
		{"single-sign-on", func(t *testing.T) { contractSingleSignOn(t, e) }},
		{"officers", func(t *testing.T) { contractOfficers(t, e) }},
		{"administration", func(t *testing.T) { contractAdministration(t, e) }},
		{"metrics", func(t *testing.T) { contractMetrics(t, e) }},
		{"unauthorized", func(t *testing.T) { contractUnauthorized(t, e) }},
		{"rate-limit", func(t *testing.T) { contractRateLimit(t, rl) }},
		{"signin-rate-limit", func(t *testing.T) { contractSignInRateLimit(t, rl) }},
	}
	ran := 0
	for _, s := range scenarios {
		t.Run(s.name, func(t *testing.T) {
			ran++
			s.run(t)
		})
	}
	if ran < len(scenarios) || t.Failed() {
		return
	}
	// Every documented answer but 500 has been seen. Of the pages and the
	// officers' pages, whose rendering is tested elsewhere, the redirects
	// that render nothing.
	for path, item := range e.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				status, err := strconv.Atoi(code)
				if err != nil {
					t.Errorf("%s %s: answer %q is not a status", method, path, code)
					continue
				}
				page := slices.Contains(op.Tags, "pages") || slices.Contains(op.Tags, "officers")
				if status == 500 || page && status != http.StatusSeeOther {
					continue
				}
				if !e.cov.seen[method+" "+path][status] {
					t.Errorf("%s %s: the documented answer %d was never exercised", method, path, status)
				}
			}
		}
	}
}

func contractHealth(t *testing.T, e *contractEnv) {
	a := e.do(t, contractCall{method: "GET", path: "/healthz", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "ok"})
	a = e.do(t, contractCall{method: "GET", path: "/readyz", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "ready"})
	e.notReady.Store(true)
	a = e.do(t, contractCall{method: "GET", path: "/readyz", want: 503})
	e.notReady.Store(false)
	checkFields(t, a.object(t), map[string]any{"status": "unavailable"})
	a = e.do(t, contractCall{method: "GET", path: "/openapi.yaml", want: 200})
	if !bytes.Equal(a.body, api.OpenAPI) {
		t.Error("GET /openapi.yaml does not serve the embedded document")
	}
}

func contractControllers(t *testing.T, e *contractEnv) {
	var list struct {
		Data []struct {
			Key       string   `json:"key"`
			Languages []string `json:"languages"`
		} `json:"data"`
	}
	a := e.do(t, contractCall{method: "GET", path: "/api/v1/controllers", want: 200})
	a.decode(t, &list)
	var keys []string
	for _, c := range list.Data {
		keys = append(keys, c.Key)
	}
	if want := []string{"nte", "keto-diets", "max-nutrition", "digiref", "intility", "proviso"}; !slices.Equal(keys, want) {
		t.Errorf("controllers %v, want %v", keys, want)
	}
	// The document's example is the answer for the shipped controllers.
	example := e.doc.Paths.Find("/api/v1/controllers").Get.Responses.Status(200).Value.Content.Get("application/json").Example
	if want, _ := json.Marshal(example); !jsonEqual(t, a.body, want) {
		t.Errorf("the example of GET /api/v1/controllers is not the answer for the shipped controllers:\n got %s\nwant %s", a.body, want)
	}
	if cc := a.header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/controllers", key: "auditor", want: 200})
	// A bad key is refused, never treated as the public.
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/controllers", auth: "Bearer dsar_not-a-real-key", want: 401})
	if a.header.Get("WWW-Authenticate") != `Bearer realm="dsar"` {
		t.Errorf("WWW-Authenticate %q", a.header.Get("WWW-Authenticate"))
	}
}

func contractCreate(t *testing.T, e *contractEnv) {
	// Public, from NTE's web form: received now.
	e.clock.Set(mustTime("2025-04-17T08:15:00Z"))
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", want: 201, body: map[string]any{
		"type": "access", "controller": "nte", "language": "nb",
		"subject": map[string]any{"email": "kari.nordmann@example.no", "name": "Kari Nordmann", "customer_id": "7001234567"},
		"details": "Jeg ønsker innsyn i alle opplysninger dere har om meg.",
	}})
	got := a.object(t)
	checkFields(t, got, map[string]any{
		"type": "access", "status": "awaiting_verification", "controller": "nte", "regulation": "gdpr", "language": "nb",
		"channel": "web", "received_at": "2025-04-17T10:15:00+02:00",
		// 17 May 2025 is a Saturday and a holiday.
		"due_date": "2025-05-19", "deadline": "2025-05-19T23:59:59+02:00", "extension_notice_by": "2025-05-19",
		"extended": false, "paused": false, "paused_days": 0, "overdue": false,
		"subject": nil, "details": nil, "extension_reason": nil, "acknowledge_by": nil,
		"closed_at": nil, "verification": nil, "decision": nil,
	})
	if loc := a.header.Get("Location"); loc != "/api/v1/requests/"+contractID(t, got) {
		t.Errorf("Location %q", loc)
	}

	// An officer logs a CCPA request that came by e-mail the day before.
	e.clock.Set(mustTime("2025-03-04T07:30:00Z"))
	got = e.create(t, "officer", map[string]any{
		"type": "erasure", "controller": "keto-diets", "regulation": "ccpa", "language": "en", "channel": "email",
		"received_at": "2025-03-03T11:00:00+02:00",
		"subject":     map[string]any{"email": "jane.doe@example.com", "name": "Jane Doe", "phone": "+1 415 555 0100"},
		"details":     "Please delete my account.",
	})
	checkFields(t, got, map[string]any{
		"status": "awaiting_verification", "verification": nil,
		"channel": "email", "regulation": "ccpa", "received_at": "2025-03-03T11:00:00+02:00",
		"due_date": "2025-04-17", "deadline": "2025-04-17T23:59:59+03:00", "extension_notice_by": "2025-04-17",
		"acknowledge_by": "2025-03-17", "details": "Please delete my account.",
		"created_at": "2025-03-04T09:30:00+02:00",
	})
	if s, _ := got["subject"].(map[string]any); s["email"] != "jane.doe@example.com" || s["phone"] != "+1 415 555 0100" {
		t.Errorf("subject %v", got["subject"])
	}

	// An integrated system: channel api, the controller's defaults.
	e.clock.Set(mustTime("2025-01-31T23:30:00Z")) // 1 Feb in Oslo
	got = e.create(t, "system", map[string]any{"type": "portability", "controller": "nte",
		"subject": map[string]any{"email": "ola@example.no"}})
	checkFields(t, got, map[string]any{"channel": "api", "language": "nb", "regulation": "gdpr", "details": "",
		"due_date": "2025-03-03", "received_at": "2025-02-01T00:30:00+01:00"})

	// A system whose user signed in: verified at once, and the trail says by whom and how.
	e.clock.Set(mustTime("2025-04-17T08:15:00Z"))
	got = e.create(t, "system", map[string]any{"type": "portability", "controller": "nte",
		"subject": map[string]any{"email": "ola@example.no"}, "verified": true, "verification_method": "  Signed in to Min side with BankID "})
	checkFields(t, got, map[string]any{"status": "in_progress", "closed_at": nil, "decision": nil,
		"verification": map[string]any{"at": "2025-04-17T10:15:00+02:00", "by": "apikey:" + e.keyIDs["system"], "method": "Signed in to Min side with BankID"}})
	var evs struct {
		Data []struct {
			Kind, From, To string
			Data           map[string]string
		} `json:"data"`
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + contractID(t, got) + "/events", key: "system", want: 200}).decode(t, &evs)
	if len(evs.Data) != 2 || evs.Data[0].Kind != "created" || evs.Data[0].To != "received" ||
		evs.Data[1].Kind != "transition" || evs.Data[1].From != "received" || evs.Data[1].To != "in_progress" ||
		evs.Data[1].Data["method"] != "Signed in to Min side with BankID" || evs.Data[1].Data["verified_by"] != "apikey:"+e.keyIDs["system"] {
		t.Errorf("events %+v", evs.Data)
	}

	// Keys that may not create for the controller.
	body := map[string]any{"type": "access", "controller": "nte", "subject": map[string]any{"email": "a@example.no"}}
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "auditor", body: body, want: 403})
	checkFields(t, a.object(t), map[string]any{"code": "forbidden", "status": 403})
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "digiref", body: body, want: 403})
}

func contractCreateInvalid(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-20T10:00:00Z"))
	// Several bad fields, all listed at once.
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", want: 422, docRejects: true, lang: "en", body: map[string]any{
		"type": "bogus", "controller": "nte", "regulation": "ccpa", "channel": "email", "received_at": "2025-04-01T10:00:00Z",
		"subject": map[string]any{"email": "not-an-email", "name": strings.Repeat("n", dsar.MaxNameLength+1)},
	}})
	p := a.problem(t)
	want := map[string]string{
		"type": "field.enum", "subject.email": "field.email", "subject.name": "field.too_long",
		"regulation": "field.regulation_not_allowed", "channel": "field.api_key_only", "received_at": "field.api_key_only",
	}
	if got := p.fields(); !maps.Equal(got, want) {
		t.Errorf("errors %v, want %v", got, want)
	}
	if p.Code != "invalid" || p.Title != "The request has invalid fields." || a.header.Get("Content-Language") != "en" {
		t.Errorf("problem %+v, Content-Language %q", p, a.header.Get("Content-Language"))
	}

	// Nothing at all; in bokmål because Accept-Language asks for it.
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: map[string]any{}, lang: "nb-NO,en;q=0.5", want: 422, docRejects: true})
	p = a.problem(t)
	want = map[string]string{"type": "field.required", "subject.email": "field.required", "controller": "field.required"}
	if got := p.fields(); !maps.Equal(got, want) {
		t.Errorf("errors %v, want %v", got, want)
	}
	if p.Title != "Forespørselen har ugyldige felter." || a.header.Get("Content-Language") != "nb" {
		t.Errorf("not in bokmål: %q, Content-Language %q", p.Title, a.header.Get("Content-Language"))
	}
	// The body's language wins over Accept-Language.
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", lang: "en", want: 422, docRejects: true,
		body: map[string]any{"type": "access", "controller": "nte", "language": "nb", "subject": map[string]any{"email": ""}}})
	if a.header.Get("Content-Language") != "nb" {
		t.Errorf("Content-Language %q, want nb", a.header.Get("Content-Language"))
	}

	// What only the server can judge: a receipt in the future.
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "officer", want: 422, body: map[string]any{
		"type": "access", "controller": "nte", "received_at": "2025-04-21T10:00:00+02:00",
		"subject": map[string]any{"email": "a@example.no"}}})
	if got := a.problem(t).fields(); got["received_at"] != "field.future" {
		t.Errorf("errors %v", got)
	}
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "officer", want: 422, docRejects: true, body: map[string]any{
		"type": "access", "controller": "nte", "received_at": "yesterday", "subject": map[string]any{"email": "a@example.no"}}})
	if got := a.problem(t).fields(); got["received_at"] != "field.timestamp" {
		t.Errorf("errors %v", got)
	}

	// Only an API key may say the subject is verified, and it must say how.
	for _, c := range []struct {
		key    string
		body   map[string]any
		fields map[string]string
		docRej bool
	}{
		{"", map[string]any{"verified": true, "verification_method": "BankID"}, map[string]string{"verified": "field.api_key_only"}, false},
		{"officer", map[string]any{"verified": true}, map[string]string{"verification_method": "field.required"}, false},
		{"officer", map[string]any{"verified": true, "verification_method": "  "}, map[string]string{"verification_method": "field.required"}, false},
		{"officer", map[string]any{"verification_method": "BankID"}, map[string]string{"verified": "field.required"}, false},
		{"officer", map[string]any{"verified": true, "verification_method": strings.Repeat("m", dsar.MaxNameLength+1)},
			map[string]string{"verification_method": "field.too_long"}, true},
	} {
		body := map[string]any{"type": "access", "controller": "nte", "subject": map[string]any{"email": "a@example.no"}}
		maps.Copy(body, c.body)
		a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: c.key, body: body, want: 422, docRejects: c.docRej})
		if got := a.problem(t).fields(); !maps.Equal(got, c.fields) {
			t.Errorf("%v: errors %v, want %v", c.body, got, c.fields)
		}
	}
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "officer", want: 400, docRejects: true,
		body: `{"type":"access","controller":"nte","subject":{"email":"a@example.no"},"verified":"yes"}`})

	// An unknown controller.
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests", want: 422, body: map[string]any{
		"type": "access", "controller": "acme", "subject": map[string]any{"email": "a@example.no"}}})
	p = a.problem(t)
	if p.Code != "unprocessable" || p.Type != "urn:dsar:problem:unprocessable" || p.fields()["controller"] != "error.unknown_controller" {
		t.Errorf("problem %+v", p)
	}
}

func contractMalformed(t *testing.T, e *contractEnv) {
	ok := `{"type":"access","controller":"nte","subject":{"email":"a@example.no"}`
	for _, c := range []struct {
		name, body, ct string
		field, code    string
	}{
		{"malformed", `{"type":`, "", "", ""},
		{"unknown field", ok + `,"birth_date":"1990-01-01"}`, "", "birth_date", "field.unknown"},
		{"unknown subject field", `{"type":"access","controller":"nte","subject":{"email":"a@example.no","ssn":"x"}}`, "", "ssn", "field.unknown"},
		{"wrong type", `{"type":5,"controller":"nte","subject":{"email":"a@example.no"}}`, "", "type", "field.type"},
		{"not JSON content", ok + `}`, "text/plain", "", ""},
		{"array", `[]`, "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: c.body, contentType: c.ct, want: 400, docRejects: true})
			p := a.problem(t)
			if p.Code != "invalid" || p.Status != 400 || p.Instance != "/api/v1/requests" {
				t.Errorf("problem %+v", p)
			}
			if c.field != "" && p.fields()[c.field] != c.code {
				t.Errorf("errors %v, want %s: %s", p.fields(), c.field, c.code)
			}
		})
	}
	// Trailing data after the JSON value: kin-openapi reads the first value
	// only, so here the document cannot disagree.
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: ok + `}{}`, want: 400})
	if p := a.problem(t); p.Title != "The request body is not valid JSON." {
		t.Errorf("problem %+v", p)
	}
}

func contractTooLarge(t *testing.T, e *contractEnv) {
	big := map[string]any{"type": "access", "controller": "nte", "subject": map[string]any{"email": "a@example.no"},
		"details": strings.Repeat("x", contractBodyLimit)}
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: big, want: 413})
	p := a.problem(t)
	if p.Code != "too_large" || !strings.Contains(p.Title, "4096") {
		t.Errorf("problem %+v", p)
	}
	// Without Content-Length the limit applies while reading.
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: big, chunked: true, want: 413})
	// The bodies below are also invalid by the document (too long a reason
	// or note, a field resume does not know); the size is refused first.
	for op, body := range map[string]any{
		"extend":                               map[string]any{"reason": strings.Repeat("r", contractBodyLimit)},
		"pause":                                map[string]any{"reason": "identity", "note": strings.Repeat("n", contractBodyLimit)},
		"resume":                               map[string]any{"note": strings.Repeat("n", contractBodyLimit)},
		"messages":                             map[string]any{"kind": "identity", "body": strings.Repeat("b", contractBodyLimit)},
		"verify":                               map[string]any{"method": strings.Repeat("m", contractBodyLimit)},
		"complete":                             map[string]any{"summary": strings.Repeat("s", contractBodyLimit)},
		"refuse":                               map[string]any{"ground": "art12_5", "text": strings.Repeat("t", contractBodyLimit)},
		"assign":                               map[string]any{"assignee": strings.Repeat("a", contractBodyLimit)},
		"notes":                                map[string]any{"body": strings.Repeat("b", contractBodyLimit)},
		"reopen":                               map[string]any{"reason": strings.Repeat("r", contractBodyLimit)},
		"approve":                              map[string]any{"note": strings.Repeat("n", contractBodyLimit)},
		"forward":                              map[string]any{"to": strings.Repeat("t", contractBodyLimit)},
		"fee":                                  map[string]any{"text": strings.Repeat("f", contractBodyLimit)},
		"objection":                            map[string]any{"objection": strings.Repeat("o", contractBodyLimit)},
		"tasks/retry":                          map[string]any{"all": strings.Repeat("a", contractBodyLimit)},
		"tasks/" + unknownRequestID + "/retry": map[string]any{"x": strings.Repeat("x", contractBodyLimit)},
		"tasks/" + unknownRequestID + "/done":  map[string]any{"evidence": strings.Repeat("e", contractBodyLimit)},
		"tasks/" + unknownRequestID + "/skip":  map[string]any{"reason": strings.Repeat("r", contractBodyLimit)},
		"redactions":                           map[string]any{"reason": strings.Repeat("r", contractBodyLimit)},
	} {
		e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/" + op, key: "officer", body: body, want: 413, docRejects: true})
	}
}

func contractList(t *testing.T, e *contractEnv) {
	// Five requests of Intility, received a day apart.
	var ids []string
	for i := range 5 {
		e.clock.Set(mustTime("2025-03-10T09:00:00Z").AddDate(0, 0, i))
		typ := "access"
		if i == 2 {
			typ = "erasure"
		}
		ids = append(ids, contractID(t, e.create(t, "intility", map[string]any{"type": typ, "controller": "intility",
			"subject": map[string]any{"email": fmt.Sprintf("s%d@example.no", i)}})))
	}
	e.clock.Set(mustTime("2025-03-20T09:00:00Z"))
	type page struct {
		Data []struct {
			ID      string `json:"id"`
			Subject *struct {
				Email string `json:"email"`
			} `json:"subject"`
		} `json:"data"`
		NextCursor *string `json:"next_cursor"`
	}
	// Newest first, two at a time, access requests only.
	var got []string
	path := "/api/v1/requests?status=awaiting_verification,in_progress&type=access&controller=intility&sort=-received_at&limit=2"
	for n := 0; ; n++ {
		var p page
		e.do(t, contractCall{method: "GET", path: path, key: "intility", want: 200}).decode(t, &p)
		for _, r := range p.Data {
			got = append(got, r.ID)
			if r.Subject == nil || r.Subject.Email == "" {
				t.Errorf("request %s without subject for an officer", r.ID)
			}
		}
		if p.NextCursor == nil {
			break
		}
		if n > 5 {
			t.Fatal("the cursor never ends")
		}
		path = "/api/v1/requests?type=access&controller=intility&sort=-received_at&limit=2&cursor=" + *p.NextCursor
	}
	if want := []string{ids[4], ids[3], ids[1], ids[0]}; !slices.Equal(got, want) {
		t.Errorf("listed %v, want %v", got, want)
	}
	// Due dates: 10-14 March + 1 month, moved off the weekend of 12-13 April.
	var p page
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests?due_after=2025-04-10&due_before=2025-04-15&overdue=false", key: "intility", want: 200}).decode(t, &p)
	if len(p.Data) != 4 {
		t.Errorf("due between 10 and 15 April: %d requests, want 4", len(p.Data))
	}
	// Other controllers' requests are not listed.
	p = page{}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests?controller=intility", key: "digiref", want: 200}).decode(t, &p)
	if len(p.Data) != 0 || p.NextCursor != nil {
		t.Errorf("digiref's officer sees %d of Intility's requests", len(p.Data))
	}

	// Bad queries.
	for _, c := range []struct {
		query, field string
		want         int
		docRejects   bool
	}{
		{"status=bogus", "status", 400, true},
		{"type=access,bogus", "type", 400, true},
		{"overdue=maybe", "overdue", 400, true},
		{"due_before=2025-13-01", "due_before", 400, true},
		{"limit=0", "limit", 400, true},
		{"limit=ten", "limit", 400, true},
		{"page=2", "page", 400, false}, // unknown parameters: OpenAPI 3.0 cannot forbid them
		{"sort=newest", "sort", 400, true},
		{"cursor=garbage", "cursor", 400, false},
	} {
		a := e.do(t, contractCall{method: "GET", path: "/api/v1/requests?" + c.query, key: "intility", want: c.want, docRejects: c.docRejects})
		if f := a.problem(t).fields(); f[c.field] == "" {
			t.Errorf("%s: errors %v do not name %s", c.query, f, c.field)
		}
	}
}

func contractGetAndEvents(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-17T08:15:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "objection", "controller": "nte",
		"subject": map[string]any{"email": "per@example.no"}, "details": "Stop the marketing e-mails."}))
	e.clock.Set(mustTime("2025-05-20T08:00:00Z")) // after the deadline

	a := e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "auditor", want: 200})
	checkFields(t, a.object(t), map[string]any{"id": id, "overdue": true, "details": "Stop the marketing e-mails."})
	// Another controller's officer learns nothing.
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "digiref", want: 404, lang: "nb"})
	if p := a.problem(t); p.Code != "not_found" || a.header.Get("Content-Language") != "nb" ||
		!strings.HasPrefix(p.Title, "Vi fant ikke") {
		t.Errorf("problem %+v", p)
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + unknownRequestID, key: "admin", want: 404})

	var evs struct {
		Data []struct {
			Kind  string            `json:"kind"`
			Actor string            `json:"actor"`
			From  string            `json:"from"`
			To    string            `json:"to"`
			Data  map[string]string `json:"data"`
		} `json:"data"`
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/events", key: "auditor", want: 200}).decode(t, &evs)
	// Received, then waiting for the subject to confirm the address, in one instant.
	if len(evs.Data) != 2 || evs.Data[0].Kind != "created" || evs.Data[0].Actor != "apikey:"+e.keyIDs["officer"] ||
		evs.Data[0].To != "received" || evs.Data[0].Data["due_date"] != "2025-05-19" ||
		evs.Data[1].Kind != "transition" || evs.Data[1].From != "received" || evs.Data[1].To != "awaiting_verification" {
		t.Errorf("events %+v", evs.Data)
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/events", key: "digiref", want: 404})
}

// An auditor exports a trail as JSON and as CSV: the same events, each with
// its place in the audit chain, its client address and a hash that the
// exported fields reproduce.
func contractEventsExport(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-17T08:15:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "kari@example.no"}, "verified": true, "verification_method": "Signed in to Min side"}))
	e.clock.Set(mustTime("2025-04-18T09:30:00.123456Z"))
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/pause", key: "officer", want: 200,
		body: map[string]any{"reason": "clarification", "note": "Which meter, \"north\" or \"south\"?\nAnd since when?"}})

	var js struct {
		Data []struct {
			ID       int64             `json:"id"`
			Seq      int64             `json:"seq"`
			At       time.Time         `json:"at"`
			Actor    string            `json:"actor"`
			ClientIP string            `json:"client_ip"`
			Kind     string            `json:"kind"`
			From     string            `json:"from"`
			To       string            `json:"to"`
			Reason   string            `json:"reason"`
			Data     map[string]string `json:"data"`
			Hash     string            `json:"hash"`
			PrevHash string            `json:"prev_hash"`
		} `json:"data"`
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/events?format=json", key: "auditor", want: 200}).decode(t, &js)
	a := e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/events?format=csv", key: "auditor", want: 200})
	if ct := a.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := a.header.Get("Content-Disposition"); cd != `attachment; filename="request-`+id+`-events.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	rows, err := csv.NewReader(bytes.NewReader(a.body)).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, a.body)
	}
	if len(js.Data) != 3 || len(rows) != 1+len(js.Data) {
		t.Fatalf("%d JSON events, %d CSV rows:\n%s", len(js.Data), len(rows), a.body)
	}
	if got := strings.Join(rows[0], ","); got != "id,seq,at,actor,client_ip,kind,from,to,reason,data,hash,prev_hash" {
		t.Errorf("header %s", got)
	}
	for i, ev := range js.Data {
		row := rows[i+1]
		var data map[string]string
		if err := json.Unmarshal([]byte(row[9]), &data); err != nil {
			t.Errorf("row %d: data %q: %v", i+1, row[9], err)
		}
		seq, _ := strconv.ParseInt(row[1], 10, 64)
		at, _ := time.Parse(time.RFC3339Nano, row[2])
		// The row's fields reproduce its hash, as an auditor would check it.
		fromCSV := &dsar.Event{RequestID: id, At: at, Actor: row[3], ClientIP: row[4], Kind: dsar.EventKind(row[5]),
			From: dsar.Status(row[6]), To: dsar.Status(row[7]), Reason: row[8], Data: data}
		if got := dsar.EventHash(row[11], fromCSV, seq); got != row[10] {
			t.Errorf("row %d: the exported fields hash to %s, the row says %s", i+1, got, row[10])
		}
		if row[0] != strconv.FormatInt(ev.ID, 10) || seq != ev.Seq || !at.Equal(ev.At) || row[3] != ev.Actor ||
			row[4] != ev.ClientIP || row[5] != ev.Kind || row[8] != ev.Reason || row[10] != ev.Hash || row[11] != ev.PrevHash ||
			!maps.Equal(data, ev.Data) {
			t.Errorf("row %d %q differs from the JSON %+v", i+1, row, ev)
		}
		if ev.Seq < 1 || len(ev.Hash) != 64 || ev.ClientIP != "127.0.0.1" {
			t.Errorf("event %+v: no place in the chain or no client address", ev)
		}
	}
	if p := js.Data[2]; p.Kind != "paused" || p.Reason != "Which meter, \"north\" or \"south\"?\nAnd since when?" || p.At.Nanosecond() != 123456000 {
		t.Errorf("pause event %+v", p)
	}
	if js.Data[1].PrevHash != js.Data[0].Hash || js.Data[1].Seq != js.Data[0].Seq+1 {
		t.Errorf("the intake's two events are not linked: %+v", js.Data[:2])
	}

	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/events?format=xml", key: "auditor", want: 400, docRejects: true})
	problemFields(t, a, map[string]string{"format": "field.enum"})
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/events?format=csv", key: "digiref", want: 404})
}

func contractExtend(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-20T10:00:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte", "channel": "letter",
		"received_at": "2025-04-17T10:15:00+02:00", "subject": map[string]any{"email": "kari@example.no"}}))
	path := "/api/v1/requests/" + id + "/extend"
	reason := "The request covers 12 years of metering data in three systems."

	// Who may not.
	e.do(t, contractCall{method: "POST", path: path, key: "system", body: map[string]any{"reason": reason}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: map[string]any{"reason": reason}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: map[string]any{"reason": reason}, want: 404})
	// Bad input.
	a := e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"reason": "   "}, want: 422, docRejects: true})
	if f := a.problem(t).fields(); f["reason"] != "field.required" {
		t.Errorf("errors %v", f)
	}
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{}, want: 422, docRejects: true})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"reason": strings.Repeat("r", dsar.MaxReasonLength+1)}, want: 422, docRejects: true})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"reason":"x","days":30}`, want: 400, docRejects: true})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", want: 400, docRejects: true}) // no body

	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"reason": reason}, want: 200})
	checkFields(t, a.object(t), map[string]any{"extended": true, "extension_reason": reason, "due_date": "2025-07-17",
		"deadline": "2025-07-17T23:59:59+02:00", "extension_notice_by": "2025-05-19", "channel": "letter"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"reason": reason}, want: 409})
	if p := a.problem(t); p.Code != "conflict" || !strings.Contains(p.Title, "already been extended") {
		t.Errorf("problem %+v", p)
	}
	// The reason is in the audit trail.
	var evs struct {
		Data []struct{ Kind, Reason string } `json:"data"`
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/events", key: "officer", want: 200}).decode(t, &evs)
	if n := len(evs.Data); n != 3 || evs.Data[2].Kind != "extended" || evs.Data[2].Reason != reason {
		t.Errorf("events %+v", evs.Data)
	}

	// Too late: the original deadline (7 April) has passed.
	id = contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"received_at": "2025-03-05T12:00:00+01:00", "subject": map[string]any{"email": "kari@example.no"}}))
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/extend", key: "officer", body: map[string]any{"reason": reason}, want: 409})
	if p := a.problem(t); !strings.Contains(p.Title, "2025-04-07") {
		t.Errorf("problem %+v", p)
	}
}

func contractPauseResume(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"received_at": "2025-04-17T10:15:00+02:00", "subject": map[string]any{"email": "kari@example.no"},
		"verified": true, "verification_method": "Called the customer"}))
	pause, resume := "/api/v1/requests/"+id+"/pause", "/api/v1/requests/"+id+"/resume"
	body := map[string]any{"reason": "identity", "note": "Asked for the customer number on the latest invoice."}

	a := e.do(t, contractCall{method: "POST", path: resume, key: "officer", want: 409})
	if p := a.problem(t); p.Title != "This request is not on hold." {
		t.Errorf("problem %+v", p)
	}
	e.do(t, contractCall{method: "POST", path: pause, key: "auditor", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: pause, key: "system", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: pause, key: "digiref", body: body, want: 404})
	a = e.do(t, contractCall{method: "POST", path: pause, key: "officer", body: map[string]any{"reason": "internal"}, want: 422, docRejects: true})
	if f := a.problem(t).fields(); f["reason"] != "field.enum" {
		t.Errorf("errors %v", f)
	}
	e.do(t, contractCall{method: "POST", path: pause, key: "officer", body: map[string]any{"reason": "identity", "note": strings.Repeat("n", dsar.MaxReasonLength+1)}, want: 422, docRejects: true})
	e.do(t, contractCall{method: "POST", path: pause, key: "officer", body: `{"reason":"identity",}`, want: 400, docRejects: true})

	a = e.do(t, contractCall{method: "POST", path: pause, key: "officer", body: body, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "awaiting_subject", "paused": true, "paused_days": 0, "due_date": "2025-05-19"})
	a = e.do(t, contractCall{method: "POST", path: pause, key: "officer", body: body, want: 409})
	if p := a.problem(t); p.Title != "This request is already on hold." {
		t.Errorf("problem %+v", p)
	}

	e.clock.Set(mustTime("2025-04-25T09:02:00Z")) // three days later
	e.do(t, contractCall{method: "POST", path: resume, key: "auditor", want: 403})
	e.do(t, contractCall{method: "POST", path: resume, key: "digiref", want: 404})
	e.do(t, contractCall{method: "POST", path: resume, key: "officer", body: `{"now":true}`, want: 400, docRejects: true})
	a = e.do(t, contractCall{method: "POST", path: resume, key: "officer", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress", "paused": false, "paused_days": 3,
		"due_date": "2025-05-20", "extension_notice_by": "2025-05-20", "deadline": "2025-05-20T23:59:59+02:00"})

	var evs struct {
		Data []struct {
			Kind, From, To string
			Data           map[string]string
		} `json:"data"`
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/events", key: "officer", want: 200}).decode(t, &evs)
	var kinds []string
	for _, ev := range evs.Data {
		kinds = append(kinds, ev.Kind)
	}
	if !slices.Equal(kinds, []string{"created", "transition", "paused", "resumed"}) || evs.Data[3].Data["paused_days"] != "3" {
		t.Errorf("events %+v", evs.Data)
	}

	// A request whose subject never confirmed goes back to waiting for that.
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id = contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte", "subject": map[string]any{"email": "kari@example.no"}}))
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/pause", key: "officer", body: body, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "awaiting_subject", "paused": true})
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/resume", key: "officer", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "awaiting_verification", "paused": false, "verification": nil})

	// Under the CCPA the clock runs on while waiting; the body may be {}.
	e.clock.Set(mustTime("2025-03-04T07:30:00Z"))
	id = contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "keto-diets", "regulation": "ccpa",
		"subject": map[string]any{"email": "jane@example.com"}}))
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/pause", key: "officer", body: map[string]any{"reason": "clarification"}, want: 200})
	e.clock.Set(mustTime("2025-03-14T07:30:00Z"))
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/resume", key: "officer", body: map[string]any{}, want: 200})
	checkFields(t, a.object(t), map[string]any{"paused_days": 0, "due_date": "2025-04-18", "acknowledge_by": "2025-03-18"})
}

// contractEvent is one audit event as the tests read it.
type contractEvent struct {
	Kind, Actor, From, To, Reason string
	Data                          map[string]string
}

// events returns the audit trail of a request.
func (e *contractEnv) events(t *testing.T, id string) []contractEvent {
	t.Helper()
	var evs struct {
		Data []contractEvent `json:"data"`
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/events", key: "admin", want: 200}).decode(t, &evs)
	return evs.Data
}

func eventKinds(evs []contractEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Kind)
	}
	return out
}

// contractMessage is one message as the tests read it.
type contractMessage struct {
	ID          string `json:"id"`
	FromSubject bool   `json:"from_subject"`
	Kind        string `json:"kind"`
	Author      string `json:"author"`
	Body        string `json:"body"`
}

func (e *contractEnv) messages(t *testing.T, key, id string) []contractMessage {
	t.Helper()
	var out struct {
		Data []contractMessage `json:"data"`
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id + "/messages", key: key, want: 200}).decode(t, &out)
	return out.Data
}

// verificationID returns the verification whose link and code the newest
// verification mail of the request carries, as the mail worker would.
func (e *contractEnv) verificationID(t *testing.T, requestID string) string {
	t.Helper()
	items, err := store.NewOutbox(e.db).Due(context.Background(), e.clock.Now(), 100000)
	if err != nil {
		t.Fatal(err)
	}
	id := ""
	for _, it := range items {
		var p dsar.MailPayload
		if it.RequestID == requestID && it.Kind == dsar.OutboxMail && json.Unmarshal(it.Payload, &p) == nil && p.Template == "verification" {
			id = p.VerificationID
		}
	}
	if id == "" {
		t.Fatalf("no verification mail for request %s", requestID)
	}
	return id
}

// problemFields checks the bad fields of a problem answer.
func problemFields(t *testing.T, a contractAnswer, want map[string]string) {
	t.Helper()
	if got := a.problem(t).fields(); !maps.Equal(got, want) {
		t.Errorf("errors %v, want %v", got, want)
	}
}

func contractAskMessages(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"received_at": "2025-04-17T10:15:00+02:00", "subject": map[string]any{"email": "kari@example.no"},
		"verified": true, "verification_method": "Called the customer"}))
	path := "/api/v1/requests/" + id + "/messages"
	a := e.do(t, contractCall{method: "GET", path: path, key: "officer", want: 200})
	if !jsonEqual(t, a.body, []byte(`{"data":[]}`)) {
		t.Errorf("messages of a new request: %s", a.body)
	}
	question := "Please send a copy of an identity document, and the customer number on your latest invoice."
	body := map[string]any{"kind": "identity", "body": question}

	// Who may not.
	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "system", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: body, want: 404})
	e.do(t, contractCall{method: "GET", path: path, key: "digiref", want: 404})
	// Bad input.
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"kind": "reply", "body": question}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"kind": "field.enum"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"body": question}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"kind": "field.enum"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"kind": "identity", "body": " \n "}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"body": "field.required"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"kind": "identity", "body": strings.Repeat("q", dsar.MaxReasonLength+1)}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"body": "field.too_long"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"kind":"identity","body":"x","to":"kari@example.no"}`, want: 400, docRejects: true})
	problemFields(t, a, map[string]string{"to": "field.unknown"})

	// The question puts the request on hold.
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: body, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "awaiting_subject", "paused": true, "paused_days": 0, "due_date": "2025-05-19"})
	// Another question while on hold: no second hold.
	e.clock.Set(mustTime("2025-04-23T08:00:00Z"))
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"kind": "clarification", "body": "Which of our services?"}, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "awaiting_subject", "paused": true})

	// Whoever may see the request may read them, oldest first.
	msgs := e.messages(t, "auditor", id)
	if len(msgs) != 2 || msgs[0].Kind != "identity" || msgs[0].FromSubject || msgs[0].Body != question ||
		msgs[0].Author != "apikey:"+e.keyIDs["officer"] || msgs[1].Kind != "clarification" {
		t.Fatalf("messages %+v", msgs)
	}
	evs := e.events(t, id)
	if !slices.Equal(eventKinds(evs), []string{"created", "transition", "paused", "message"}) {
		t.Fatalf("events %+v", evs)
	}
	if p := evs[2]; p.To != "awaiting_subject" || p.Reason != question || p.Data["pause_reason"] != "identity" ||
		p.Data["clock_stopped"] != "true" || p.Data["message"] != msgs[0].ID {
		t.Errorf("paused event %+v", p)
	}
	if m := evs[3]; m.Data["kind"] != "clarification" || m.Data["message"] != msgs[1].ID {
		t.Errorf("message event %+v", m)
	}
}

func contractVerify(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte", "channel": "phone",
		"subject": map[string]any{"email": "kari@example.no"}}))
	path := "/api/v1/requests/" + id + "/verify"
	method := "Called the customer on the number in the customer record"

	// Who may not.
	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: map[string]any{"method": method}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "system", body: map[string]any{"method": method}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: map[string]any{"method": method}, want: 404})
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/verify", key: "admin", body: map[string]any{"method": method}, want: 404})
	// Bad input.
	a := e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"method": "  "}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"method": "field.required"})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{}, want: 422, docRejects: true})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"method": strings.Repeat("m", dsar.MaxReasonLength+1)}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"method": "field.too_long"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"method":5}`, want: 400, docRejects: true})
	problemFields(t, a, map[string]string{"method": "field.type"})

	// The officer verified the caller: the request moves on.
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"method": method}, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress", "closed_at": nil, "decision": nil,
		"verification": map[string]any{"at": "2025-04-22T09:40:00+02:00", "by": "apikey:" + e.keyIDs["officer"], "method": method}})
	// Verifying again replaces the record.
	e.clock.Advance(time.Hour)
	a = e.do(t, contractCall{method: "POST", path: path, key: "admin", body: map[string]any{"method": " Checked the passport "}, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress",
		"verification": map[string]any{"at": "2025-04-22T10:40:00+02:00", "by": "apikey:" + e.keyIDs["admin"], "method": "Checked the passport"}})

	evs := e.events(t, id)
	if !slices.Equal(eventKinds(evs), []string{"created", "transition", "identity_verified", "identity_verified"}) {
		t.Fatalf("events %+v", evs)
	}
	if v := evs[2]; v.From != "awaiting_verification" || v.To != "in_progress" || v.Data["method"] != method ||
		v.Data["verified_by"] != "apikey:"+e.keyIDs["officer"] {
		t.Errorf("event %+v", v)
	}
}

func contractDocuments(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "kari@example.no"}, "verified": true, "verification_method": "Signed in"}))
	docs := "/api/v1/requests/" + id + "/documents"

	a := e.do(t, contractCall{method: "GET", path: docs, key: "officer", want: 200})
	if !jsonEqual(t, a.body, []byte(`{"data":[]}`)) {
		t.Errorf("documents of a new request: %s", a.body)
	}
	// Only those who may work the case see identity documents.
	e.do(t, contractCall{method: "GET", path: docs, key: "auditor", want: 403})
	e.do(t, contractCall{method: "GET", path: docs, key: "system", want: 403})
	e.do(t, contractCall{method: "GET", path: docs, key: "digiref", want: 404})
	e.do(t, contractCall{method: "GET", path: docs + "/" + unknownRequestID, key: "officer", want: 404})

	// Asked for proof, the subject sends a scan with the answer.
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/messages", key: "officer",
		body: map[string]any{"kind": "identity", "body": "Please send a copy of an identity document."}, want: 200})
	e.clock.Set(mustTime("2025-04-25T09:02:45Z"))
	token, csrf := e.db.StatusToken(id), "contract-csrf-token"
	reply := func(file []byte, want int) contractAnswer {
		t.Helper()
		var form bytes.Buffer
		mw := multipart.NewWriter(&form)
		_ = mw.WriteField("_csrf", csrf)
		_ = mw.WriteField("body", "Here is my passport.")
		h := textproto.MIMEHeader{}
		// What the device calls the file counts for nothing.
		h.Set("Content-Disposition", `form-data; name="document"; filename="passport.html"`)
		h.Set("Content-Type", "text/html")
		pw, _ := mw.CreatePart(h)
		_, _ = pw.Write(file)
		_ = mw.Close()
		return e.do(t, contractCall{method: "POST", path: "/s/" + token + "/reply", body: form.Bytes(), contentType: mw.FormDataContentType(), csrf: csrf, lang: "en", want: want})
	}
	// A file that is no PDF, JPEG, PNG or HEIC is refused, whatever its name.
	a = reply([]byte("MZ\x90\x00 a program"), 422)
	if !strings.Contains(string(a.body), "Send dokumentet som en PDF-, JPEG-, PNG- eller HEIC-fil") { // the request's language
		t.Errorf("the refused file: the page does not say why")
	}
	if msgs := e.messages(t, "officer", id); len(msgs) != 1 {
		t.Errorf("the refused file left %d messages, want the question only", len(msgs))
	}
	scan := []byte("%PDF-1.7\n% a passport, in a manner of speaking\n")
	a = reply(scan, 303)
	if loc := a.header.Get("Location"); loc != "/s/"+token+"?notice=replied" {
		t.Errorf("Location %q", loc)
	}
	// The answer ends the hold.
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "officer", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress", "paused": false, "paused_days": 3})
	if msgs := e.messages(t, "officer", id); len(msgs) != 2 || !msgs[1].FromSubject || msgs[1].Kind != "reply" ||
		msgs[1].Author != "subject" || msgs[1].Body != "Here is my passport." {
		t.Errorf("messages %+v", msgs)
	}
	if evs := e.events(t, id); len(evs) != 4 || evs[3].Kind != "resumed" || evs[3].Actor != "subject" || evs[3].Data["document"] != "true" {
		t.Errorf("events %+v", evs)
	}

	var list struct {
		Data []struct {
			ID          string `json:"id"`
			FileName    string `json:"file_name"`
			ContentType string `json:"content_type"`
			Size        int    `json:"size"`
		} `json:"data"`
	}
	e.do(t, contractCall{method: "GET", path: docs, key: "officer", want: 200}).decode(t, &list)
	if len(list.Data) != 1 || list.Data[0].FileName != "identity-document-"+list.Data[0].ID+".pdf" || list.Data[0].ContentType != "application/pdf" || list.Data[0].Size != len(scan) {
		t.Fatalf("documents %+v", list.Data)
	}
	doc := docs + "/" + list.Data[0].ID
	a = e.do(t, contractCall{method: "GET", path: doc, key: "officer", want: 200})
	if !bytes.Equal(a.body, scan) || a.header.Get("Content-Type") != "application/octet-stream" ||
		a.header.Get("Content-Disposition") != `attachment; filename="identity-document-`+list.Data[0].ID+`.pdf"` || a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("document: %v %q", a.header, a.body)
	}
	e.do(t, contractCall{method: "GET", path: doc, key: "auditor", want: 403})
	e.do(t, contractCall{method: "GET", path: doc, key: "digiref", want: 404})

	// Once the verification is recorded, the proof is gone.
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/verify", key: "officer",
		body: map[string]any{"method": "Compared the passport with the customer record"}, want: 200})
	a = e.do(t, contractCall{method: "GET", path: docs, key: "officer", want: 200})
	if !jsonEqual(t, a.body, []byte(`{"data":[]}`)) {
		t.Errorf("documents after the verification: %s", a.body)
	}
	e.do(t, contractCall{method: "GET", path: doc, key: "officer", want: 404})
}

func contractComplete(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	unverified := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "kari@example.no"}}))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "kari@example.no"}, "verified": true, "verification_method": "Signed in"}))
	path := "/api/v1/requests/" + id + "/complete"
	summary := "We have deleted your customer account, your consumption history and your marketing preferences."
	body := map[string]any{"summary": summary, "kept": []any{
		map[string]any{"what": "Invoices and payment records", "why": "The Bookkeeping Act requires us to keep them.", "until": "2030-12-31"},
		map[string]any{"what": "The record of this request", "why": "To show that we handled it lawfully."},
	}}

	// Who may not.
	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "system", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: body, want: 404})
	// Bad input: every bad field at once.
	a := e.do(t, contractCall{method: "POST", path: path, key: "officer", want: 422, docRejects: true, body: map[string]any{"summary": " ",
		"kept": []any{map[string]any{"what": "Invoices"}, map[string]any{"what": "Logs", "why": "Security", "until": "soon"}}}})
	problemFields(t, a, map[string]string{"summary": "field.required", "kept.0": "field.required", "kept.1.until": "field.date"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", want: 422, body: map[string]any{"summary": summary,
		"kept": []any{map[string]any{"what": "Logs", "why": "Security", "until": "2025-13-01"}}}})
	problemFields(t, a, map[string]string{"kept.0.until": "field.date"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", want: 422, docRejects: true, body: map[string]any{"summary": strings.Repeat("s", dsar.MaxReasonLength+1)}})
	problemFields(t, a, map[string]string{"summary": "field.too_long"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", want: 400, docRejects: true,
		body: `{"summary":"Done.","kept":[{"what":"Logs","why":"Security","days":30}]}`})
	problemFields(t, a, map[string]string{"days": "field.unknown"})
	// Only a request in progress: verify first.
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + unverified + "/complete", key: "officer", body: body, want: 409})
	if p := a.problem(t); p.Title != "The status of the request cannot change from «Waiting for the subject to confirm» to «Completed»." {
		t.Errorf("problem %+v", p)
	}

	e.clock.Set(mustTime("2025-05-06T12:02:13Z"))
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: body, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "completed", "closed_at": "2025-05-06T14:02:13+02:00", "overdue": false, "paused": false})
	var got struct {
		Decision map[string]any `json:"decision"`
	}
	a.decode(t, &got)
	want := map[string]any{"summary": summary, "kept": []any{
		map[string]any{"what": "Invoices and payment records", "why": "The Bookkeeping Act requires us to keep them.", "until": "2030-12-31"},
		map[string]any{"what": "The record of this request", "why": "To show that we handled it lawfully.", "until": ""},
	}}
	if !reflect.DeepEqual(got.Decision, want) {
		t.Errorf("decision %v, want %v", got.Decision, want)
	}
	// Closed: it cannot be completed again.
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: body, want: 409})
	// Readers see the decision; the trail has it.
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "auditor", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "completed", "closed_at": "2025-05-06T14:02:13+02:00"})
	evs := e.events(t, id)
	if last := evs[len(evs)-1]; last.Kind != "transition" || last.From != "in_progress" || last.To != "completed" ||
		last.Reason != summary || last.Data["kept"] != "2" {
		t.Errorf("event %+v", last)
	}
}

func contractRefuse(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "kari@example.no"}}))
	path := "/api/v1/requests/" + id + "/refuse"
	text := "We must keep the invoices of the last five years under the Bookkeeping Act; everything else has been deleted."
	body := map[string]any{"ground": "art17_3_b", "text": text}

	// Who may not.
	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "system", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: body, want: 404})
	// Bad input: every bad field at once.
	a := e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"ground": "art99", "text": " "}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"ground": "field.enum", "text": "field.required"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"text": text}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"ground": "field.enum"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"ground": "art12_5", "text": strings.Repeat("t", dsar.MaxReasonLength+1)}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"text": "field.too_long"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"ground":"art12_5","text":"x","partial":"yes"}`, want: 400, docRejects: true})
	problemFields(t, a, map[string]string{"partial": "field.type"})
	// A ground of another right: an erasure is not refused on Art 15(4).
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"ground": "art15_4", "text": text}, want: 422})
	problemFields(t, a, map[string]string{"ground": "error.ground.not_for_type"})
	// A partial refusal needs the case in work and says which part.
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"ground": "art17_3_b", "text": text, "partial": true}, want: 422})
	problemFields(t, a, map[string]string{"part": "field.required", "granted": "field.required"})

	// Refused before the subject even confirmed the address.
	e.clock.Set(mustTime("2025-04-23T10:00:00Z"))
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: body, want: 200})
	got := a.object(t)
	checkFields(t, got, map[string]any{"status": "refused", "closed_at": "2025-04-23T12:00:00+02:00", "verification": nil,
		"decision": map[string]any{"ground": "art17_3_b", "text": text}})
	evs := e.events(t, id)
	if last := evs[len(evs)-1]; last.Kind != "transition" || last.From != "awaiting_verification" || last.To != "refused" ||
		last.Reason != text || last.Data["ground"] != "art17_3_b" || last.Data["partial"] != "false" {
		t.Errorf("event %+v", last)
	}
	// Closed: nothing more can be done.
	for _, c := range []struct{ op, title string }{
		{"refuse", "This request is closed and can no longer be changed."},
		{"messages", "This request is closed and can no longer be changed."},
		{"verify", "This request is closed and can no longer be changed."},
		{"complete", "This request is closed and can no longer be changed."},
	} {
		a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/" + c.op, key: "officer", body: contractBodies["POST "+c.op], want: 409})
		if p := a.problem(t); p.Code != "conflict" || p.Title != c.title {
			t.Errorf("%s: problem %+v", c.op, p)
		}
	}

	// A request on hold is refused wholly: the hold ends.
	id = contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "kari@example.no"}, "verified": true, "verification_method": "Signed in"}))
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/messages", key: "officer", body: contractBodies["POST messages"], want: 200})
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/refuse", key: "admin",
		body: map[string]any{"ground": "art12_5", "text": "The fifth identical request this month."}, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "refused", "paused": false,
		"decision": map[string]any{"ground": "art12_5", "text": "The fifth identical request this month."}})
}

func contractPages(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-17T08:15:00Z"))
	const csrf = "contract-csrf-token"
	form := func(kv ...string) string {
		v := url.Values{"_csrf": {csrf}}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	post := func(path, body string, want int) contractAnswer {
		t.Helper()
		a := e.do(t, contractCall{method: "POST", path: path, body: body, contentType: "application/x-www-form-urlencoded", csrf: csrf, want: want})
		if want == http.StatusSeeOther && !strings.Contains(a.header.Get("Set-Cookie"), "dsar_csrf="+csrf) {
			t.Errorf("POST %s: Set-Cookie %q", path, a.header.Get("Set-Cookie"))
		}
		return a
	}
	count := func() int {
		t.Helper()
		var p struct {
			Data []any `json:"data"`
		}
		e.do(t, contractCall{method: "GET", path: "/api/v1/requests?controller=proviso", key: "admin", want: 200}).decode(t, &p)
		return len(p.Data)
	}
	before := count()

	// A robot fills in the honeypot: it looks like success, and nothing is kept.
	a := post("/c/proviso", form("type", "access", "email", "robot@example.no", "website", "https://spam.example"), 303)
	if loc := a.header.Get("Location"); loc != "/c/proviso?sent=1" {
		t.Errorf("Location %q", loc)
	}
	if n := count(); n != before {
		t.Errorf("the robot's request was kept")
	}

	// A person: the request is recorded, and the code page comes next.
	submit := func(email string) string {
		t.Helper()
		a := post("/c/proviso", form("type", "portability", "email", email, "name", "Kari Nordmann", "details", "All my data.",
			"transmit_organisation", "Digiref AS", "language", "en", "website", ""), 303)
		id, ok := strings.CutPrefix(a.header.Get("Location"), "/r/")
		id, ok2 := strings.CutSuffix(id, "/verify")
		if !ok || !ok2 {
			t.Fatalf("Location %q", a.header.Get("Location"))
		}
		return id
	}
	id := submit("kari@example.no")
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "admin", want: 200})
	got := a.object(t)
	checkFields(t, got, map[string]any{"status": "awaiting_verification", "channel": "web", "language": "en", "type": "portability",
		"subject":      map[string]any{"email": "kari@example.no", "name": "Kari Nordmann"},
		"transmission": map[string]any{"to": "other", "organisation": "Digiref AS"}})
	if d, _ := got["details"].(string); d != "All my data." {
		t.Errorf("details %q", d)
	}
	if n := count(); n != before+1 {
		t.Errorf("%d requests of Proviso, want %d", n, before+1)
	}

	// The e-mailed link opens a page and changes nothing; its button
	// verifies the request and leads to the status page, also when used again.
	keys := e.db.Keyring
	link := "/v/" + keys.Token("verify", e.verificationID(t, id))
	status := "/s/" + e.db.StatusToken(id) + "?notice=verified"
	e.do(t, contractCall{method: "GET", path: link, want: 200})
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "admin", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "awaiting_verification"})
	for range 2 {
		a = post(link, form(), 303)
		if loc := a.header.Get("Location"); loc != status {
			t.Errorf("Location %q, want %q", loc, status)
		}
	}
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "admin", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress",
		"verification": map[string]any{"at": "2025-04-17T10:15:00+02:00", "by": "subject", "method": "email_link"}})

	// So does the code typed on the code page.
	id = submit("ola@example.no")
	code := keys.Code("verify", e.verificationID(t, id))
	a = post("/r/"+id+"/verify", form("code", " "+code+" "), 303)
	token := e.db.StatusToken(id)
	if loc := a.header.Get("Location"); loc != "/s/"+token+"?notice=verified" {
		t.Errorf("Location %q", loc)
	}
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "admin", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress",
		"verification": map[string]any{"at": "2025-04-17T10:15:00+02:00", "by": "subject", "method": "email_code"}})
	if evs := e.events(t, id); len(evs) != 3 || evs[2].Kind != "transition" || evs[2].Actor != "subject" ||
		evs[2].From != "awaiting_verification" || evs[2].To != "in_progress" || evs[2].Data["method"] != "email_code" {
		t.Errorf("events %+v", evs)
	}

	// The subject withdraws it on the status page.
	e.clock.Advance(time.Hour)
	a = post("/s/"+token+"/withdraw", form("confirm", "yes"), 303)
	if loc := a.header.Get("Location"); loc != "/s/"+token+"?notice=withdrawn" {
		t.Errorf("Location %q", loc)
	}
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "admin", want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "withdrawn", "closed_at": "2025-04-17T11:15:00+02:00"})

	// A body over the limit is refused before the page is reached: a problem document.
	a = post("/c/proviso", form("type", "access", "email", "kari@example.no", "details", strings.Repeat("x", contractBodyLimit)), 413)
	if p := a.problem(t); p.Code != "too_large" || p.Instance != "/c/proviso" {
		t.Errorf("problem %+v", p)
	}
}

// contractBodies are valid bodies of the keyed POST routes, by method and
// last path segment.
var contractBodies = map[string]any{
	"POST extend":     map[string]any{"reason": "x"},
	"POST pause":      map[string]any{"reason": "identity"},
	"POST messages":   map[string]any{"kind": "clarification", "body": "Which services?"},
	"POST verify":     map[string]any{"method": "Called the customer"},
	"POST complete":   map[string]any{"summary": "Done."},
	"POST refuse":     map[string]any{"ground": "art12_5", "text": "The fifth identical request this month."},
	"POST assign":     map[string]any{"assignee": ""},
	"POST notes":      map[string]any{"body": "Called the customer."},
	"POST reopen":     map[string]any{"reason": "The export lacked the consumption history."},
	"POST approve":    map[string]any{"note": "Identity verified; scope clear."},
	"POST forward":    map[string]any{"to": "Customer AS, personvern@customer.example"},
	"POST fee":        map[string]any{"basis": "art12_5", "text": "The ninth identical request this month costs NOK 150."},
	"POST objection":  map[string]any{"objection": "direct_marketing"},
	"POST done":       map[string]any{"evidence": "Deleted the customer by hand.", "count": 1},
	"POST skip":       map[string]any{"reason": "The old CRM was shut down; its data went with it."},
	"POST redactions": map[string]any{"task_id": unknownRequestID, "line": 2, "reason": "It names another customer."},
}

func contractUnauthorized(t *testing.T, e *contractEnv) {
	keyed := []struct{ method, path string }{
		{"GET", "/api/v1/controllers/nte/datamap"},
		{"GET", "/api/v1/requests"},
		{"GET", "/api/v1/requests/" + unknownRequestID},
		{"GET", "/api/v1/requests/" + unknownRequestID + "/events"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/extend"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/pause"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/resume"},
		{"GET", "/api/v1/requests/" + unknownRequestID + "/messages"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/messages"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/verify"},
		{"GET", "/api/v1/requests/" + unknownRequestID + "/documents"},
		{"GET", "/api/v1/requests/" + unknownRequestID + "/documents/" + unknownRequestID},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/complete"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/refuse"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/assign"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/notes"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/reopen"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/approve"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/forward"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/fee"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/objection"},
		{"GET", "/api/v1/requests/" + unknownRequestID + "/actions"},
		{"GET", "/api/v1/requests/" + unknownRequestID + "/plan"},
		{"GET", "/api/v1/requests/" + unknownRequestID + "/tasks"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/tasks/retry"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/tasks/" + unknownRequestID + "/done"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/tasks/" + unknownRequestID + "/skip"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/tasks/" + unknownRequestID + "/retry"},
		{"GET", "/api/v1/requests/" + unknownRequestID + "/results/report.html"},
		{"GET", "/api/v1/requests/" + unknownRequestID + "/redactions"},
		{"POST", "/api/v1/requests/" + unknownRequestID + "/redactions"},
	}
	for _, r := range keyed {
		body := contractBodies[r.method+" "+r.path[strings.LastIndexByte(r.path, '/')+1:]]
		// Without a key: the document requires one too.
		a := e.do(t, contractCall{method: r.method, path: r.path, body: body, want: 401, docRejects: true})
		if p := a.problem(t); p.Code != "unauthorized" || a.header.Get("WWW-Authenticate") != `Bearer realm="dsar"` {
			t.Errorf("%s %s: problem %+v, WWW-Authenticate %q", r.method, r.path, p, a.header.Get("WWW-Authenticate"))
		}
		// With a key that does not exist.
		e.do(t, contractCall{method: r.method, path: r.path, body: body, auth: "Bearer dsar_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", want: 401})
	}
	// A bad key on the public route is refused, not downgraded.
	body := map[string]any{"type": "access", "controller": "nte", "subject": map[string]any{"email": "a@example.no"}}
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: body, auth: "Bearer nope", want: 401})
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: body, auth: "Basic dXNlcjpwYXNz", want: 401, docRejects: false})
}

func contractRateLimit(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-17T08:15:00Z"))
	// The public budget is one call a minute per address, the key's one a minute per key.
	e.do(t, contractCall{method: "GET", path: "/api/v1/controllers", want: 200})
	a := e.do(t, contractCall{method: "GET", path: "/api/v1/controllers", want: 429})
	if a.header.Get("Retry-After") != "60" {
		t.Errorf("Retry-After %q, want 60", a.header.Get("Retry-After"))
	}
	if p := a.problem(t); p.Code != "rate_limited" || !strings.Contains(p.Title, "60 seconds") {
		t.Errorf("problem %+v", p)
	}
	body := map[string]any{"type": "access", "controller": "nte", "subject": map[string]any{"email": "a@example.no"}}
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: body, want: 429})

	e.do(t, contractCall{method: "GET", path: "/api/v1/requests", key: "officer", want: 200})
	e.clock.Advance(45 * time.Second)
	for _, c := range []contractCall{
		{method: "GET", path: "/api/v1/controllers"},
		{method: "GET", path: "/api/v1/controllers/nte/datamap"},
		{method: "POST", path: "/api/v1/requests", body: body},
		{method: "GET", path: "/api/v1/requests"},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/events"},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/extend", body: map[string]any{"reason": "x"}},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/pause", body: map[string]any{"reason": "identity"}},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/resume"},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/messages"},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/messages", body: contractBodies["POST messages"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/verify", body: contractBodies["POST verify"]},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/documents"},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/documents/" + unknownRequestID},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/complete", body: contractBodies["POST complete"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/refuse", body: contractBodies["POST refuse"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/assign", body: contractBodies["POST assign"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/notes", body: contractBodies["POST notes"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/reopen", body: contractBodies["POST reopen"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/approve", body: contractBodies["POST approve"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/forward", body: contractBodies["POST forward"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/fee", body: contractBodies["POST fee"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/objection", body: contractBodies["POST objection"]},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/actions"},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/plan"},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/tasks"},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/tasks/retry"},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/tasks/" + unknownRequestID + "/done", body: contractBodies["POST done"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/tasks/" + unknownRequestID + "/skip", body: contractBodies["POST skip"]},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/tasks/" + unknownRequestID + "/retry"},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/results/report.json"},
		{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/redactions"},
		{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/redactions", body: contractBodies["POST redactions"]},
		{method: "POST", path: "/api/v1/suppression/check", body: map[string]any{"controller": "nte", "emails": []string{"a@example.no"}}},
		{method: "POST", path: "/api/v1/tasks/" + unknownRequestID + "/callback?token=x", body: map[string]any{"status": "done"},
			header: http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {"1"}, "Webhook-Signature": {"v1,x"}}},
		{method: "POST", path: "/api/v1/opendsr/callback/" + unknownRequestID + "?token=x", body: map[string]any{"request_status": "completed",
			"subject_request_id": "a7551968-d5d6-44b2-9831-815ac9017798", "status_callback_url": "https://dsar.example.com/x"},
			header: http.Header{"X-Opendsr-Signature": {"eA=="}, "X-Opendsr-Processor-Domain": {"processor.example"}}},
	} {
		c.key, c.want = "officer", 429
		a := e.do(t, c)
		if a.header.Get("Retry-After") != "15" {
			t.Errorf("%s %s: Retry-After %q, want 15", c.method, c.path, a.header.Get("Retry-After"))
		}
	}
	// A new minute, a new budget.
	e.clock.Advance(15 * time.Second)
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests", body: body, key: "officer", want: 201})
}

// TestContractDetectsDrift shows that the checks of TestContract fail when
// the document and the answers disagree.
func TestContractDetectsDrift(t *testing.T) {
	e := newContractEnv(t, nil)
	e.clock.Set(mustTime("2025-04-17T08:15:00Z"))
	body, _ := json.Marshal(map[string]any{"type": "access", "controller": "nte", "subject": map[string]any{"email": "a@example.no"}})
	resp, err := e.http.Client().Post(e.http.URL+"/api/v1/requests", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	validate := func(router routers.Router) error {
		req, _ := http.NewRequest("POST", "https://dsar.example.com/api/v1/requests", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		route, params, err := router.FindRoute(req)
		if err != nil {
			return err
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
			Status:                 resp.StatusCode, Header: resp.Header,
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		}
		in.SetBodyBytes(created)
		return openapi3filter.ValidateResponse(context.Background(), in)
	}
	if err := validate(e.router); err != nil {
		t.Fatalf("the real document refuses the answer: %v", err)
	}
	for name, drift := range map[string]func(doc *openapi3.T){
		"a field the code sends is not documented": func(doc *openapi3.T) {
			delete(doc.Components.Schemas["Request"].Value.Properties, "paused_days")
		},
		"a documented field is required but not sent": func(doc *openapi3.T) {
			s := doc.Components.Schemas["Request"].Value
			s.Required = append(s.Required, "subject")
		},
		"an enum lacks a value the code sends": func(doc *openapi3.T) {
			doc.Components.Schemas["Channel"].Value.Enum = []any{"api"}
		},
		"a field has another type": func(doc *openapi3.T) {
			doc.Components.Schemas["Request"].Value.Properties["paused_days"].Value.Type = &openapi3.Types{"string"}
		},
		"a required header is missing": func(doc *openapi3.T) {
			doc.Paths.Find("/api/v1/requests").Post.Responses.Status(201).Value.Headers["ETag"] =
				&openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{Required: true, Schema: openapi3.NewStringSchema().NewRef()}}}
		},
		"the status is not documented": func(doc *openapi3.T) {
			doc.Paths.Find("/api/v1/requests").Post.Responses.Delete("201")
		},
	} {
		doc := loadOpenAPI(t)
		router, err := legacy.NewRouter(doc)
		if err != nil {
			t.Fatal(err)
		}
		drift(doc)
		if err := validate(router); err == nil {
			t.Errorf("%s: the drift goes unnoticed", name)
		}
	}
}

// contractAssign drives POST /api/v1/requests/{id}/assign.
func contractAssign(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	created := e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "assign@example.no"}, "verified": true, "verification_method": "Signed in"})
	id, ref := contractID(t, created), created["reference"].(string)
	path := "/api/v1/requests/" + id + "/assign"
	officer := e.users["officer"].ID
	body := map[string]any{"assignee": officer}

	// Who may not.
	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "system", body: body, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: body, want: 404})
	// Bad input.
	a := e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"assignee": unknownRequestID}, want: 422})
	problemFields(t, a, map[string]string{"assignee": "error.not_found"})
	for _, who := range []string{"digiref", "auditor"} {
		a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"assignee": e.users[who].ID}, want: 422})
		problemFields(t, a, map[string]string{"assignee": "error.assignee_cannot_work"})
	}
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"assignee": strings.Repeat("x", 37)}, want: 422, docRejects: true})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"assignee":5}`, want: 400, docRejects: true})
	problemFields(t, a, map[string]string{"assignee": "field.type"})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"user":"x"}`, want: 400, docRejects: true})

	// Given to the officer, by an officer's key and by an admin's.
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: body, want: 200})
	checkFields(t, a.object(t), map[string]any{"id": id, "assignee": officer, "status": "in_progress"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "admin", body: map[string]any{"assignee": e.users["admin"].ID}, want: 200})
	checkFields(t, a.object(t), map[string]any{"assignee": e.users["admin"].ID})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: body, want: 200})
	// Readers see it; the public never does.
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "auditor", want: 200})
	checkFields(t, a.object(t), map[string]any{"assignee": officer})

	// The list filters by assignee and finds by reference or address.
	list := func(query string) []string {
		t.Helper()
		var p struct {
			Data []map[string]any `json:"data"`
		}
		e.do(t, contractCall{method: "GET", path: "/api/v1/requests?" + query, key: "officer", want: 200}).decode(t, &p)
		var ids []string
		for _, r := range p.Data {
			ids = append(ids, r["id"].(string))
		}
		return ids
	}
	if got := list("assignee=" + officer); !slices.Equal(got, []string{id}) {
		t.Errorf("assignee=officer: %v, want [%s]", got, id)
	}
	if got := list("assignee=" + e.users["admin"].ID); len(got) != 0 {
		t.Errorf("assignee=admin: %v, want none", got)
	}
	for _, q := range []string{ref, strings.ToLower(ref), "ASSIGN@example.no", " assign@example.no "} {
		if got := list("search=" + url.QueryEscape(q)); !slices.Equal(got, []string{id}) {
			t.Errorf("search=%q: %v, want [%s]", q, got, id)
		}
	}
	if got := list("search=nobody%40example.no&assignee=" + officer); len(got) != 0 {
		t.Errorf("search for another address: %v", got)
	}

	// Taken back: to nobody.
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"assignee": ""}, want: 200})
	checkFields(t, a.object(t), map[string]any{"assignee": nil})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{}, want: 200})
	checkFields(t, a.object(t), map[string]any{"assignee": nil})
	var kinds []string
	var last contractEvent
	for _, ev := range e.events(t, id) {
		if ev.Kind == "assigned" {
			kinds, last = append(kinds, ev.Kind), ev
		}
	}
	if len(kinds) != 5 || last.Data["from"] != "" || last.Data["to"] != "" {
		t.Errorf("assigned events %v, last %+v", kinds, last)
	}
}

// contractNotes drives POST /api/v1/requests/{id}/notes.
func contractNotes(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "notes@example.no"}}))
	path := "/api/v1/requests/" + id + "/notes"
	note := "Called the customer; the meter data from the old system arrives on Friday."

	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: map[string]any{"body": note}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "system", body: map[string]any{"body": note}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: map[string]any{"body": note}, want: 404})
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/notes", key: "officer", body: map[string]any{"body": note}, want: 404})
	a := e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"body": "  "}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"body": "field.required"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"body": "field.required"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"body": strings.Repeat("n", dsar.MaxReasonLength+1)}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"body": "field.too_long"})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"body":"x","kind":"note"}`, want: 400, docRejects: true})

	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"body": " " + note + " "}, want: 200})
	checkFields(t, a.object(t), map[string]any{"id": id, "status": "awaiting_verification"})
	// Officers and auditors see the note; the trail points to it.
	msgs := e.messages(t, "auditor", id)
	if len(msgs) != 1 || msgs[0].Kind != "note" || msgs[0].Body != note || msgs[0].FromSubject {
		t.Fatalf("messages %+v", msgs)
	}
	// An integrated system never reads the officers' internal notes.
	if got := e.messages(t, "system", id); len(got) != 0 {
		t.Errorf("a system key reads %+v", got)
	}
	evs := e.events(t, id)
	if last := evs[len(evs)-1]; last.Kind != "note" || last.Data["message"] != msgs[0].ID {
		t.Errorf("event %+v", last)
	}
}

// contractReopen drives POST /api/v1/requests/{id}/reopen.
func contractReopen(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "reopen@example.no"}, "verified": true, "verification_method": "Signed in"}))
	path := "/api/v1/requests/" + id + "/reopen"
	storetest.Ready(t, e.db, id)
	reason := "The subject wrote that the export lacked the consumption history."

	// An open case cannot be reopened.
	a := e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"reason": reason}, want: 409})
	if p := a.problem(t); p.Code != "conflict" || p.Title != "Only a completed or refused case can be reopened; this one is «In progress»." {
		t.Errorf("problem %+v", p)
	}
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/complete", key: "officer", body: contractBodies["POST complete"], want: 200})

	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: map[string]any{"reason": reason}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "system", body: map[string]any{"reason": reason}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: map[string]any{"reason": reason}, want: 404})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"reason": ""}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"reason": "field.required"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"reason": strings.Repeat("r", dsar.MaxReasonLength+1)}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"reason": "field.too_long"})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"reason":"x","status":"in_progress"}`, want: 400, docRejects: true})

	e.clock.Advance(time.Hour)
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"reason": reason}, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress", "closed_at": nil, "decision": nil})
	evs := e.events(t, id)
	if last := evs[len(evs)-1]; last.Kind != "transition" || last.From != "completed" || last.To != "in_progress" || last.Reason != reason {
		t.Errorf("event %+v", last)
	}
	// Open again: a second reopen is a conflict; completing needs the
	// subject's files made again (a new approval), then works again.
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"reason": reason}, want: 409})
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/complete", key: "officer", body: contractBodies["POST complete"], want: 409})
	if p := a.problem(t); p.Code != "conflict" || !strings.HasPrefix(p.Title, "An access or portability request is answered with the subject's data") {
		t.Errorf("problem %+v", p)
	}
	storetest.Ready(t, e.db, id)
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/complete", key: "officer", body: contractBodies["POST complete"], want: 200})
}

// contractApprove drives POST /api/v1/requests/{id}/approve and the list's
// approved filter.
func contractApprove(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-23T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "approve@example.no"}, "verified": true, "verification_method": "Signed in"}))
	unverified := contractID(t, e.create(t, "", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "approve-public@example.no"}}))
	path := "/api/v1/requests/" + id + "/approve"
	note := "Identity verified through Min side; erasure covers the customer account."

	// Identity not yet settled: no approval.
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + unverified + "/approve", key: "officer", body: map[string]any{}, want: 409})
	if p := a.problem(t); p.Code != "conflict" || !strings.Contains(p.Title, "«Waiting for the subject to confirm»") {
		t.Errorf("problem %+v", p)
	}
	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: map[string]any{"note": note}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "system", body: map[string]any{"note": note}, want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: map[string]any{"note": note}, want: 404})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"note": strings.Repeat("n", dsar.MaxReasonLength+1)}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"note": "field.too_long"})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"note":"x","approved":true}`, want: 400, docRejects: true})
	list := e.do(t, contractCall{method: "GET", path: "/api/v1/requests?controller=nte&approved=true", key: "officer", want: 200})
	if strings.Contains(string(list.body), id) {
		t.Errorf("listed as approved before approval")
	}

	e.clock.Advance(time.Hour)
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"note": "  " + note + "\n"}, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress",
		"approval": map[string]any{"at": "2025-04-23T10:40:00+02:00", "by": "apikey:" + e.keyIDs["officer"]}})
	evs := e.events(t, id)
	if last := evs[len(evs)-1]; last.Kind != "approved" || last.From != "in_progress" || last.To != "in_progress" || last.Reason != note {
		t.Errorf("event %+v", last)
	}
	// Once only.
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{}, want: 409})
	if p := a.problem(t); p.Code != "conflict" || p.Title != "The case is already approved for execution." {
		t.Errorf("problem %+v", p)
	}
	for q, want := range map[string]bool{"approved=true": true, "approved=false": false} {
		list = e.do(t, contractCall{method: "GET", path: "/api/v1/requests?controller=nte&" + q, key: "officer", want: 200})
		if strings.Contains(string(list.body), id) != want {
			t.Errorf("%s: listed %v, want %v", q, !want, want)
		}
	}
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests?approved=maybe", key: "officer", want: 400, docRejects: true})
	problemFields(t, a, map[string]string{"approved": "field.enum"})
	// The approval sent a task to every system of NTE's data map: the case
	// cannot be completed by hand while they run.
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/complete", key: "officer", body: contractBodies["POST complete"], want: 409})
	if p := a.problem(t); p.Code != "conflict" || !strings.Contains(p.Title, "system tasks") {
		t.Errorf("problem %+v", p)
	}
	// A target outside the plan is refused; with every task left out, the
	// case has nothing to wait for and completes at once. Reopening it asks
	// for a new approval.
	other := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "approve-left-out@example.no"}, "verified": true, "verification_method": "Signed in"}))
	otherPath := "/api/v1/requests/" + other + "/approve"
	a = e.do(t, contractCall{method: "POST", path: otherPath, key: "officer", body: map[string]any{"leave_out": map[string]string{"no-such-system": "x"}}, want: 422})
	problemFields(t, a, map[string]string{"leave_out": "error.plan.unknown_target"})
	leaveOut := map[string]string{}
	for _, ev := range evs {
		if ev.Kind == "task" && ev.Data["action"] != "notify_recipient" {
			leaveOut[ev.Data["target"]] = "Handled by the customer service desk."
		}
	}
	// The recipients' notices wait for the systems, so no event names them
	// yet: they come from the data map.
	ctrls, err := dsar.DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	nte, _ := ctrls.Get("nte")
	for _, r := range nte.Recipients {
		if r.Notify != nil {
			leaveOut["recipient:"+r.Key] = "Told by the customer service desk."
		}
	}
	if len(leaveOut) == 0 {
		t.Fatal("the approval planned no task")
	}
	a = e.do(t, contractCall{method: "POST", path: otherPath, key: "officer", body: map[string]any{"leave_out": leaveOut}, want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "completed"})
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + other + "/reopen", key: "officer", body: contractBodies["POST reopen"], want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress", "approval": nil})
	e.do(t, contractCall{method: "POST", path: otherPath, key: "officer", body: map[string]any{"leave_out": leaveOut}, want: 200})
}

// contractCSRF is the CSRF token the officers' forms are posted with.
const contractCSRF = "contract-officers-csrf-token"

// officerForm encodes a form of an officers' page with its CSRF token.
func officerForm(kv ...string) string {
	v := url.Values{"_csrf": {contractCSRF}}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// postForm posts an officers' form.
func (e *contractEnv) postForm(t *testing.T, path, session, body string, want int, docRejects bool) contractAnswer {
	t.Helper()
	return e.do(t, contractCall{method: "POST", path: path, body: body, contentType: "application/x-www-form-urlencoded",
		csrf: contractCSRF, session: session, want: want, docRejects: docRejects})
}

// signIn signs the user of the key's name in and returns the session token.
func (e *contractEnv) signIn(t *testing.T, name string) string {
	t.Helper()
	a := e.postForm(t, "/signin", "", officerForm("email", name+"@dsar.example", "password", contractPassword, "next", "/queue"), 303, false)
	for _, ck := range (&http.Response{Header: a.header}).Cookies() {
		if ck.Name == "dsar_session" && ck.Value != "" {
			return ck.Value
		}
	}
	t.Fatalf("sign in %s: no session cookie in %v", name, a.header["Set-Cookie"])
	return ""
}

// contractSignIn drives the sign-in page.
func contractSignIn(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	e.do(t, contractCall{method: "GET", path: "/signin?next=%2Fcases%2F" + unknownRequestID, want: 200})
	e.do(t, contractCall{method: "GET", path: "/signin", lang: "en", want: 200})

	// A wrong password: the form again.
	a := e.postForm(t, "/signin", "", officerForm("email", "officer@dsar.example", "password", "wrong password 123", "next", "/queue"), 401, false)
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || a.header.Get("Set-Cookie") == "" ||
		strings.Contains(strings.Join(a.header["Set-Cookie"], " "), "dsar_session=") {
		t.Errorf("wrong password: Content-Type %q, Set-Cookie %v", ct, a.header["Set-Cookie"])
	}
	e.postForm(t, "/signin", "", officerForm("email", "nobody@dsar.example", "password", contractPassword), 401, false)
	// Without the form's CSRF token.
	e.do(t, contractCall{method: "POST", path: "/signin", body: "email=officer%40dsar.example&password=x", contentType: "application/x-www-form-urlencoded", want: 403})

	// Signed in: on to next, which must stay on the site.
	for next, want := range map[string]string{"/cases/" + unknownRequestID: "/cases/" + unknownRequestID, "//evil.example/x": "/queue", "https://evil.example": "/queue", "": "/queue"} {
		a = e.postForm(t, "/signin", "", officerForm("email", "officer@dsar.example", "password", contractPassword, "next", next), 303, false)
		if loc := a.header.Get("Location"); loc != want {
			t.Errorf("next %q: Location %q, want %q", next, loc, want)
		}
		if !strings.Contains(strings.Join(a.header["Set-Cookie"], " "), "dsar_session=") {
			t.Errorf("next %q: no session cookie in %v", next, a.header["Set-Cookie"])
		}
	}
}

// contractSingleSignOn: the way to the provider and back.
func contractSingleSignOn(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	// The provider signs with the contract's clock (one scenario at a time).
	now := mockoidc.NowFunc
	mockoidc.NowFunc = e.clock.Now
	defer func() { mockoidc.NowFunc = now }()
	start := func(next string) (*http.Cookie, *url.URL) {
		t.Helper()
		a := e.do(t, contractCall{method: "GET", path: "/signin/oidc?next=" + url.QueryEscape(next), want: 302})
		to, err := url.Parse(a.header.Get("Location"))
		if err != nil || !strings.HasPrefix(to.String(), e.sso.AuthorizationEndpoint()) {
			t.Fatalf("Location %q", a.header.Get("Location"))
		}
		resp := &http.Response{Header: a.header}
		for _, ck := range resp.Cookies() {
			if ck.Name == "dsar_oidc" && ck.Path == "/signin/oidc" && ck.HttpOnly && ck.SameSite == http.SameSiteLaxMode && ck.MaxAge == 600 {
				return ck, to
			}
		}
		t.Fatalf("no dsar_oidc cookie in %v", a.header["Set-Cookie"])
		return nil, nil
	}
	// The provider's answer, as the browser would follow it.
	authorize := func(to *url.URL) url.Values {
		t.Helper()
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noFollow.Get(to.String())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		back, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || resp.StatusCode != http.StatusFound {
			t.Fatalf("the provider answered %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		return back.Query()
	}
	callback := func(ck *http.Cookie, q url.Values, want int) contractAnswer {
		t.Helper()
		return e.do(t, contractCall{method: "GET", path: "/signin/oidc/callback?" + q.Encode(), cookies: []*http.Cookie{ck}, want: want})
	}

	e.sso.QueueUser(&mockoidc.MockUser{Subject: "o1", Email: "officer@dsar.example", EmailVerified: true})
	ck, to := start("/queue")
	a := callback(ck, authorize(to), 303)
	if a.header.Get("Location") != "/queue" || !strings.Contains(strings.Join(a.header["Set-Cookie"], " "), "dsar_session=") {
		t.Errorf("signed in: Location %q, Set-Cookie %v", a.header.Get("Location"), a.header["Set-Cookie"])
	}
	// Another state than the cookie's.
	ck, to = start("/queue")
	q := authorize(to)
	q.Set("state", "forged")
	callback(ck, q, 400)
	// The provider refused.
	ck, to = start("/queue")
	callback(ck, url.Values{"state": {to.Query().Get("state")}, "error": {"access_denied"}, "error_description": {"The user cancelled."}}, 401)
	// No account for the address.
	e.sso.QueueUser(&mockoidc.MockUser{Subject: "x1", Email: "nobody@dsar.example", EmailVerified: true})
	ck, to = start("/dashboard")
	callback(ck, authorize(to), 403)
}

// contractSignInRateLimit: the sign-in form, and a wrong token for
// /metrics, count against the address's public budget.
func contractSignInRateLimit(t *testing.T, e *contractEnv) {
	e.clock.Advance(5 * time.Minute)
	e.postForm(t, "/signin", "", officerForm("email", "officer@dsar.example", "password", "wrong password 123"), 401, false)
	e.postForm(t, "/signin", "", officerForm("email", "officer@dsar.example", "password", contractPassword), 429, false)
	// So does a wrong token for /metrics.
	e.do(t, contractCall{method: "GET", path: "/metrics", auth: "Bearer not-the-token", want: 429})
}

// contractOfficers drives the officers' pages: the redirect to sign in of
// every one, and their main answers.
func contractOfficers(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-22T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "pages@example.no"}, "verified": true, "verification_method": "Signed in"}))
	cases := "/cases/" + id

	// Without a valid session: to the sign-in page, which comes back.
	for _, c := range []contractCall{
		{method: "GET", path: "/account/password"},
		{method: "POST", path: "/account/password", body: officerForm("old", "x", "new", "y")},
		{method: "POST", path: "/signout", body: officerForm()},
		{method: "GET", path: "/queue?mine=1"},
		{method: "GET", path: "/queue.csv"},
		{method: "POST", path: "/queue/bulk?type=erasure", body: officerForm("action", "assign_me")},
		{method: "GET", path: "/dashboard"},
		{method: "GET", path: "/dashboard.json"},
		{method: "GET", path: "/datamap?controller=nte"},
		{method: "GET", path: cases},
		{method: "GET", path: "/documents/" + id + "/x"},
		{method: "POST", path: cases + "/note", body: officerForm("body", "x")},
		{method: "GET", path: "/mailbox"},
		{method: "GET", path: "/mailbox/x.eml"},
	} {
		if c.body != nil {
			c.contentType, c.csrf = "application/x-www-form-urlencoded", contractCSRF
		}
		c.session, c.want = "not-a-session", 303
		a := e.do(t, c)
		if loc := a.header.Get("Location"); loc != "/signin?next="+url.QueryEscape(c.path) {
			t.Errorf("%s %s: Location %q", c.method, c.path, loc)
		}
	}
	// (A path parameter of OpenAPI holds no slash: the document cannot
	// match the monitor's deeper paths, which the route takes too.)
	for _, path := range []string{"/admin/queues", "/admin/queues/settings"} {
		for _, m := range []string{"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"} {
			a := e.do(t, contractCall{method: m, path: path, session: "not-a-session", want: 303})
			if loc := a.header.Get("Location"); !strings.HasPrefix(loc, "/signin?next=") {
				t.Errorf("%s %s: Location %q", m, path, loc)
			}
		}
	}

	// An officer of the case's controller.
	officer := e.signIn(t, "officer")
	get := func(path, session string, want int) contractAnswer {
		t.Helper()
		return e.do(t, contractCall{method: "GET", path: path, session: session, want: want})
	}
	get("/queue", officer, 200)
	get("/queue?controller=nte&type=access&status=in_progress&q=pages%40example.no&overdue=&mine=&assignee=none&approval=pending", officer, 200)
	a := get("/queue.csv?q=pages%40example.no", officer, 200)
	if rows, err := csv.NewReader(bytes.NewReader(a.body)).ReadAll(); err != nil || len(rows) != 2 || rows[1][11] != "pages@example.no" {
		t.Errorf("queue.csv: %v %q", err, a.body)
	}
	get(cases, officer, 200)
	get(cases+"?notice=done", officer, 200)
	get("/cases/"+unknownRequestID, officer, 404)
	get("/account/password", officer, 200)
	get("/dashboard", officer, 200)
	get("/dashboard?from=2025-13-01", officer, 400)
	a = get("/dashboard.json?controller=nte&from=2025-01-01&to=2025-04-30", officer, 200)
	checkFields(t, a.object(t), map[string]any{"from": "2025-01-01", "to": "2025-04-30"})
	get("/dashboard.json?from=soon", officer, 400)
	get("/mailbox", officer, 403)
	get("/datamap", officer, 200)
	get("/datamap?controller=keto-diets", officer, 200)
	get("/datamap?controller=intility", officer, 404)

	// The case's actions.
	a = e.postForm(t, cases+"/assign", officer, officerForm("to", "me"), 303, false)
	if loc := a.header.Get("Location"); loc != cases+"?notice=done" {
		t.Errorf("assign: Location %q", loc)
	}
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + id, key: "officer", want: 200})
	checkFields(t, a.object(t), map[string]any{"assignee": e.users["officer"].ID})
	e.postForm(t, cases+"/note", officer, officerForm("body", "Called the customer."), 303, false)
	e.postForm(t, cases+"/note", officer, officerForm("body", " "), 422, false)
	e.postForm(t, cases+"/reopen", officer, officerForm("reason", "Why not."), 409, false)
	e.postForm(t, cases+"/frobnicate", officer, officerForm(), 404, true)
	e.postForm(t, "/cases/"+unknownRequestID+"/note", officer, officerForm("body", "x"), 404, false)
	e.do(t, contractCall{method: "POST", path: cases + "/note", body: "body=x", contentType: "application/x-www-form-urlencoded", session: officer, want: 403})
	// An auditor sees the case but may not change it.
	auditor := e.signIn(t, "auditor")
	get(cases, auditor, 200)
	get("/datamap?controller=nte", auditor, 200)
	e.postForm(t, cases+"/note", auditor, officerForm("body", "x"), 403, false)
	get("/admin/queues", auditor, 403)

	// The password page.
	e.postForm(t, "/account/password", officer, officerForm("old", "wrong password 123", "new", "a new password 456"), 422, false)

	// An admin reads the mailbox.
	admin := e.signIn(t, "admin")
	get("/mailbox", admin, 200)
	get("/mailbox/nothing.eml", admin, 404)

	// Signed out: the session is gone.
	a = e.postForm(t, "/signout", officer, officerForm(), 303, false)
	if loc := a.header.Get("Location"); loc != "/signin" {
		t.Errorf("sign out: Location %q", loc)
	}
	get("/queue", officer, 303)
}

// contractAdministration drives the administration pages: the redirect
// to sign in of every one, their main answers, and 403 for an officer.
func contractAdministration(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-24T07:40:00Z"))
	auditor := "/admin/users/" + e.users["auditor"].ID
	for _, c := range []contractCall{
		{method: "GET", path: "/admin/users"},
		{method: "POST", path: "/admin/users", body: officerForm("email", "x@dsar.example", "role", "admin")},
		{method: "GET", path: auditor},
		{method: "POST", path: auditor + "/disable", body: officerForm()},
		{method: "GET", path: "/admin/keys"},
		{method: "POST", path: "/admin/keys", body: officerForm("name", "x", "role", "admin")},
		{method: "POST", path: "/admin/keys/" + e.keyIDs["digiref"] + "/revoke", body: officerForm()},
		{method: "POST", path: "/admin/webhooks", body: officerForm("url", "https://x.example.com", "event", "request.received")},
		{method: "POST", path: "/admin/webhooks/" + unknownRequestID + "/test", body: officerForm()},
	} {
		if c.body != nil {
			c.contentType, c.csrf = "application/x-www-form-urlencoded", contractCSRF
		}
		c.session, c.want = "not-a-session", 303
		a := e.do(t, c)
		if loc := a.header.Get("Location"); loc != "/signin?next="+url.QueryEscape(c.path) {
			t.Errorf("%s %s: Location %q", c.method, c.path, loc)
		}
	}
	admin, officer := e.signIn(t, "admin"), e.signIn(t, "officer")
	get := func(path, session string, want int) {
		t.Helper()
		e.do(t, contractCall{method: "GET", path: path, session: session, want: want})
	}
	for _, path := range []string{"/admin/users", auditor, "/admin/keys"} {
		get(path, admin, 200)
		get(path, officer, 403)
	}
	e.postForm(t, "/admin/users", officer, officerForm("email", "x@dsar.example", "role", "admin"), 403, false)
	get("/admin/users/"+unknownRequestID, admin, 404)

	e.postForm(t, "/admin/users", admin, officerForm("email", "new@dsar.example", "role", "auditor", "controller", "nte"), 200, false)
	e.postForm(t, "/admin/users", admin, officerForm("email", "new@dsar.example", "role", "auditor", "controller", "nte"), 409, false)
	e.postForm(t, "/admin/users", admin, officerForm("email", "not an address", "role", "auditor"), 422, false)
	users, err := store.NewUsers(e.db).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(users, func(u *dsar.User) bool { return u.Email == "new@dsar.example" })
	if i < 0 {
		t.Fatal("the new account is not there")
	}
	user := "/admin/users/" + users[i].ID
	a := e.postForm(t, user+"/update", admin, officerForm("role", "officer", "controller", "nte"), 303, false)
	if loc := a.header.Get("Location"); loc != user+"?notice=updated" {
		t.Errorf("update: Location %q", loc)
	}
	get(user+"?notice=updated", admin, 200)
	e.postForm(t, user+"/update", admin, officerForm("role", "officer"), 422, false)
	e.postForm(t, user+"/disable", admin, officerForm(), 303, false)
	e.postForm(t, user+"/enable", admin, officerForm(), 303, false)
	e.postForm(t, user+"/password", admin, officerForm("password", ""), 200, false)
	e.postForm(t, user+"/frobnicate", admin, officerForm(), 404, true)
	e.postForm(t, "/admin/users/"+unknownRequestID+"/disable", admin, officerForm(), 404, false)
	e.postForm(t, "/admin/users/"+e.users["admin"].ID+"/disable", admin, officerForm(), 409, false)

	e.postForm(t, "/admin/keys", admin, officerForm("name", "Ticket system", "role", "system", "controller", "nte"), 200, false)
	e.postForm(t, "/admin/keys", admin, officerForm("name", "Min side", "role", "system", "controller", "nte",
		"scope", "requests:read", "scope", "requests:create"), 200, false)
	e.postForm(t, "/admin/keys", admin, officerForm("name", "", "role", "system"), 422, false)
	e.postForm(t, "/admin/keys", admin, officerForm("name", "Bad", "role", "system", "controller", "nte", "scope", "everything"), 422, true)
	list, err := store.NewAPIKeys(e.db).List(context.Background())
	if err != nil {
		t.Fatalf("keys: %v", err)
	}
	byName := map[string]*dsar.APIKey{}
	for _, k := range list {
		byName[k.Name] = k
	}
	ticket, portal := byName["Ticket system"], byName["Min side"]
	if ticket == nil || ticket.Scopes != nil || portal == nil || !slices.Equal(portal.Scopes, []dsar.Scope{dsar.ScopeRequestsCreate, dsar.ScopeRequestsRead}) || byName["Bad"] != nil {
		t.Fatalf("keys made by the page: %+v %+v", ticket, portal)
	}
	list[0] = ticket
	a = e.postForm(t, "/admin/keys/"+list[0].ID+"/revoke", admin, officerForm(), 303, false)
	if loc := a.header.Get("Location"); loc != "/admin/keys?notice=revoked" {
		t.Errorf("revoke: Location %q", loc)
	}
	get("/admin/keys?notice=revoked", admin, 200)
	e.postForm(t, "/admin/keys/"+list[0].ID+"/revoke", admin, officerForm(), 404, false)
	e.do(t, contractCall{method: "POST", path: "/admin/keys", body: "name=x&role=admin", contentType: "application/x-www-form-urlencoded", session: admin, want: 403})

	// The webhook subscriptions' pages.
	for _, path := range []string{"/admin/webhooks", "/admin/webhooks/" + unknownRequestID} {
		get(path, "not-a-session", 303)
		get(path, officer, 403)
	}
	get("/admin/webhooks/"+unknownRequestID, admin, 404)
	e.postForm(t, "/admin/webhooks", officer, officerForm("url", "https://crm.example.com/hooks", "event", "request.received"), 403, false)
	e.postForm(t, "/admin/webhooks", admin, officerForm("url", "ftp://crm.example.com", "event", "request.received"), 422, false)
	e.postForm(t, "/admin/webhooks", admin, officerForm("url", "https://crm.example.com/hooks", "event", "request.received",
		"controller", "nte", "include_email", "true"), 201, false)
	subs, err := store.NewWebhooks(e.db).Subscriptions(context.Background(), dsar.Actor{ID: "user:" + e.users["admin"].ID, Role: dsar.RoleAdmin})
	if err != nil || len(subs) == 0 {
		t.Fatalf("webhooks: %v", err)
	}
	hook := "/admin/webhooks/" + subs[len(subs)-1].ID
	get("/admin/webhooks", admin, 200)
	get(hook, admin, 200)
	for _, action := range []string{"test", "disable", "enable"} {
		a := e.postForm(t, hook+"/"+action, admin, officerForm(), 303, false)
		if loc := a.header.Get("Location"); !strings.HasPrefix(loc, hook+"?notice=") {
			t.Errorf("%s: Location %q", action, loc)
		}
	}
	e.postForm(t, hook+"/update", admin, officerForm("url", "https://crm.example.com/v2", "event", "export.ready"), 303, false)
	e.postForm(t, hook+"/update", admin, officerForm("url", "https://crm.example.com/v2"), 422, false)
	e.postForm(t, hook+"/rotate", admin, officerForm(), 200, false)
	e.postForm(t, hook+"/redeliver", admin, officerForm("from", "2025-04-24T07:00", "to", "2025-04-24T08:00"), 200, false)
	e.postForm(t, hook+"/redeliver", admin, officerForm("from", "2025-04-24T08:00", "to", "2025-04-24T07:00"), 422, false)
	e.postForm(t, hook+"/redeliver", admin, officerForm("event_id", "evt_unknown"), 404, false)
	e.postForm(t, hook+"/frobnicate", admin, officerForm(), 404, true)
	e.postForm(t, hook+"/disable", admin, officerForm(), 303, false)
	e.postForm(t, hook+"/redeliver", admin, officerForm("from", "2025-04-24T07:00", "to", "2025-04-24T08:00"), 409, false)
	a = e.postForm(t, hook+"/delete", admin, officerForm(), 303, false)
	if loc := a.header.Get("Location"); loc != "/admin/webhooks?notice=webhook_deleted" {
		t.Errorf("delete: Location %q", loc)
	}
	get("/admin/webhooks?notice=webhook_deleted", admin, 200)
}

// contractMetrics drives /metrics.
func contractMetrics(t *testing.T, e *contractEnv) {
	a := e.do(t, contractCall{method: "GET", path: "/metrics", auth: "Bearer " + contractMetricsToken, want: 200})
	if !strings.Contains(string(a.body), "dsar_cases{") || !strings.HasPrefix(a.header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Errorf("metrics: %s %.300s", a.header.Get("Content-Type"), a.body)
	}
	e.do(t, contractCall{method: "GET", path: "/metrics", key: "admin", want: 200})
	e.do(t, contractCall{method: "GET", path: "/metrics", key: "officer", want: 403})
	e.do(t, contractCall{method: "GET", path: "/metrics", auth: "Bearer not-the-token", want: 401})
	a = e.do(t, contractCall{method: "GET", path: "/metrics", want: 401, docRejects: true})
	if p := a.problem(t); p.Code != "unauthorized" {
		t.Errorf("problem %+v", p)
	}
	e.do(t, contractCall{method: "GET", path: "/metrics", session: e.signIn(t, "admin"), want: 200})
	e.do(t, contractCall{method: "GET", path: "/metrics", session: e.signIn(t, "officer"), want: 403})
}

// contractForwardAndFee drives POST /api/v1/requests/{id}/forward and /fee.
func contractForwardAndFee(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-23T07:40:00Z"))
	access := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "fee@example.no"}, "verified": true, "verification_method": "Signed in"}))
	erasure := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "fwd@example.no"}}))
	for _, op := range []string{"forward", "fee"} {
		path := "/api/v1/requests/" + access + "/" + op
		e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: contractBodies["POST "+op], want: 403})
		e.do(t, contractCall{method: "POST", path: path, key: "system", body: contractBodies["POST "+op], want: 403})
		e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: contractBodies["POST "+op], want: 404})
		e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"x":1}`, want: 400, docRejects: true})
		body := map[string]any{"forward": map[string]any{"to": ""}, "fee": map[string]any{"basis": "art12_5", "text": ""}}[op]
		field := map[string]string{"forward": "to", "fee": "text"}[op]
		a := e.do(t, contractCall{method: "POST", path: path, key: "officer", body: body, want: 422, docRejects: true})
		problemFields(t, a, map[string]string{field: "field.required"})
	}
	// A fee only for access requests, and for a first copy only when the
	// request is excessive; announced, the case stays open.
	a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + erasure + "/fee", key: "officer", body: contractBodies["POST fee"], want: 409})
	if p := a.problem(t); !strings.Contains(p.Title, "access request") {
		t.Errorf("fee on an erasure: %+v", p)
	}
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + access + "/fee", key: "officer", body: map[string]any{"basis": "further_copy", "text": "NOK 150."}, want: 409})
	if p := a.problem(t); !strings.Contains(p.Title, "Article 15(3)") {
		t.Errorf("further copy of a first copy: %+v", p)
	}
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + access + "/fee", key: "officer", body: map[string]any{"basis": "later", "text": "NOK 150."}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"basis": "field.enum"})
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + access + "/fee", key: "officer", body: contractBodies["POST fee"], want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "in_progress"})
	// NTE processes for nobody: nothing to forward to.
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + erasure + "/forward", key: "officer", body: contractBodies["POST forward"], want: 409})
	if p := a.problem(t); !strings.Contains(p.Title, "processor") {
		t.Errorf("forward at NTE: %+v", p)
	}
	// Intility is a processor for its customers' users: the unverified
	// request is forwarded as it is, and closes.
	fwd := contractID(t, e.create(t, "intility", map[string]any{"type": "erasure", "controller": "intility",
		"subject": map[string]any{"email": "fwd@example.no"}}))
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + fwd + "/forward", key: "intility", body: contractBodies["POST forward"], want: 200})
	checkFields(t, a.object(t), map[string]any{"status": "forwarded"})
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + fwd + "/forward", key: "intility", body: contractBodies["POST forward"], want: 409})
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + access + "/forward", key: "officer", body: contractBodies["POST forward"], want: 409})
}

// contractObjectionAndActions drives POST /api/v1/requests/{id}/objection
// and GET /api/v1/requests/{id}/actions: an objection to direct marketing is
// never refused on compelling grounds, and the actions listed are those the
// case accepts.
func contractObjectionAndActions(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-23T07:40:00Z"))
	obj := contractID(t, e.create(t, "officer", map[string]any{"type": "objection", "controller": "nte",
		"subject": map[string]any{"email": "obj@example.no"}, "verified": true, "verification_method": "Signed in"}))
	path := "/api/v1/requests/" + obj + "/objection"
	e.do(t, contractCall{method: "POST", path: path, key: "auditor", body: contractBodies["POST objection"], want: 403})
	e.do(t, contractCall{method: "POST", path: path, key: "digiref", body: contractBodies["POST objection"], want: 404})
	e.do(t, contractCall{method: "POST", path: path, key: "officer", body: `{"objection":null,"x":1}`, want: 400, docRejects: true})
	a := e.do(t, contractCall{method: "POST", path: path, key: "officer", body: map[string]any{"objection": "marketing"}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"objection": "field.enum"})
	a = e.do(t, contractCall{method: "POST", path: path, key: "officer", body: contractBodies["POST objection"], want: 200})
	checkFields(t, a.object(t), map[string]any{"objection": "direct_marketing"})
	a = e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + obj + "/refuse", key: "officer",
		body: map[string]any{"ground": "art21_1", "text": "We need it."}, want: 422})
	problemFields(t, a, map[string]string{"ground": "error.ground.direct_marketing"})
	access := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "acc@example.no"}, "verified": true, "verification_method": "Signed in"}))
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + access + "/objection", key: "officer", body: contractBodies["POST objection"], want: 409})

	var acts struct{ Data []string }
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + obj + "/actions", key: "officer", want: 200}).decode(t, &acts)
	if want := []string{"verify", "ask", "pause", "extend", "assign", "note", "objection", "approve", "complete", "refuse"}; !slices.Equal(acts.Data, want) {
		t.Errorf("actions of an objection in progress: %v, want %v", acts.Data, want)
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + obj + "/actions", key: "auditor", want: 200}).decode(t, &acts)
	if len(acts.Data) != 0 {
		t.Errorf("an auditor may %v", acts.Data)
	}
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + obj + "/actions", key: "digiref", want: 404})
}

// contractTasks drives the officers' side of a case's tasks: the plan,
// the tasks, a failed one retried (one, then all), a person's task marked
// done, a task skipped; the progress in the request and the queue's
// tasks=failing filter.
func contractTasks(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-24T07:40:00Z"))
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "erasure", "controller": "nte",
		"subject": map[string]any{"email": "tasks@example.no"}, "verified": true, "verification_method": "Signed in"}))
	base := "/api/v1/requests/" + id

	// The plan, before approval: any key of the controller reads it.
	var plan struct {
		Tasks []struct {
			Target, Status string
			ID             *string
		}
		Notify, Held, Unreachable []map[string]any
	}
	e.do(t, contractCall{method: "GET", path: base + "/plan", key: "auditor", want: 200}).decode(t, &plan)
	if len(plan.Tasks) < 2 || plan.Tasks[0].Status != "planned" || plan.Tasks[0].ID != nil {
		t.Fatalf("plan %+v", plan)
	}
	e.do(t, contractCall{method: "GET", path: base + "/plan", key: "digiref", want: 404})
	e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + unknownRequestID + "/plan", key: "officer", want: 404})
	// An objection reaches no system until its kind is recorded.
	obj := contractID(t, e.create(t, "officer", map[string]any{"type": "objection", "controller": "nte",
		"subject": map[string]any{"email": "tasks-objection@example.no"}, "verified": true, "verification_method": "Signed in"}))
	if a := e.do(t, contractCall{method: "GET", path: "/api/v1/requests/" + obj + "/plan", key: "officer", want: 200}); !jsonEqual(t, a.body, []byte(`{"tasks":[],"held":[],"notify":[],"unreachable":[]}`)) {
		t.Errorf("plan of an objection of no kind: %s", a.body)
	}

	var list struct {
		Data []taskContract `json:"data"`
	}
	e.do(t, contractCall{method: "GET", path: base + "/tasks", key: "officer", want: 200}).decode(t, &list)
	if len(list.Data) != 0 {
		t.Errorf("tasks before approval: %+v", list.Data)
	}
	a := e.do(t, contractCall{method: "POST", path: base + "/approve", key: "officer", body: map[string]any{}, want: 200})
	progress := func(m map[string]any) map[string]any {
		t.Helper()
		p, ok := m["tasks"].(map[string]any)
		if !ok {
			t.Fatalf("no tasks in %v", m)
		}
		return p
	}
	total := progress(a.object(t))["total"]
	e.do(t, contractCall{method: "GET", path: base + "/tasks", key: "auditor", want: 200}).decode(t, &list)
	e.do(t, contractCall{method: "GET", path: base + "/tasks", key: "digiref", want: 404})
	var sent []string
	for _, task := range list.Data {
		if task.Status == "sent" {
			sent = append(sent, task.ID)
		}
	}
	if len(sent) < 3 || fmt.Sprint(len(list.Data)) != fmt.Sprint(total) {
		t.Fatalf("after approval: %d tasks sent of %d (progress total %v)", len(sent), len(list.Data), total)
	}
	// The systems answer: the first refuses, the second waits for a person.
	tasks := store.NewTasks(e.db)
	failed, manual, other := sent[0], sent[1], sent[2]
	if err := tasks.Callback(context.Background(), failed, dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "HTTP 400: unknown customer"}); err != nil {
		t.Fatal(err)
	}
	if err := tasks.Callback(context.Background(), manual, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson}); err != nil {
		t.Fatal(err)
	}
	e.do(t, contractCall{method: "GET", path: base + "/tasks", key: "officer", lang: "nb", want: 200}).decode(t, &list)
	for _, task := range list.Data {
		if task.ID == failed && (task.Status != "failed" || task.Answer != "HTTP 400: unknown customer" || task.Reason != "Systemet avviste oppgaven.") {
			t.Errorf("the failed task: %+v", task)
		}
	}
	a = e.do(t, contractCall{method: "GET", path: base, key: "officer", want: 200})
	if p := progress(a.object(t)); p["failed"] != 1.0 {
		t.Errorf("progress %v", p)
	}
	listed := func(query string) bool {
		t.Helper()
		return strings.Contains(string(e.do(t, contractCall{method: "GET", path: "/api/v1/requests?" + query, key: "officer", want: 200}).body), id)
	}
	if !listed("controller=nte&tasks=failing") {
		t.Error("the case with a failed task is not listed by tasks=failing")
	}
	a = e.do(t, contractCall{method: "GET", path: "/api/v1/requests?tasks=stuck", key: "officer", want: 400, docRejects: true})
	problemFields(t, a, map[string]string{"tasks": "field.enum"})
	// The queue page: the filter, and the progress as a column.
	session := e.signIn(t, "officer")
	ref := e.do(t, contractCall{method: "GET", path: base, key: "officer", want: 200}).object(t)["reference"].(string)
	a = e.do(t, contractCall{method: "GET", path: "/queue?tasks=failing", session: session, lang: "en", want: 200})
	if page := string(a.body); !strings.Contains(page, ref) || !strings.Contains(page, `<span class="tag">1 failed</span>`) {
		t.Errorf("the queue filtered by tasks=failing does not show %s failing", ref)
	}
	a = e.do(t, contractCall{method: "GET", path: "/queue?tasks=stuck", session: session, lang: "en", want: 400})
	if page := string(a.body); !strings.Contains(page, "tasks: ") || strings.Contains(page, ref) {
		t.Error("the queue with a bad tasks filter does not say what is wrong, or shows cases")
	}

	// Done: only a person's task or a failed one, with evidence.
	done := func(task string) string { return base + "/tasks/" + task + "/done" }
	e.do(t, contractCall{method: "POST", path: done(manual), key: "auditor", body: contractBodies["POST done"], want: 403})
	e.do(t, contractCall{method: "POST", path: done(manual), key: "system", body: contractBodies["POST done"], want: 403})
	e.do(t, contractCall{method: "POST", path: done(manual), key: "digiref", body: contractBodies["POST done"], want: 404})
	e.do(t, contractCall{method: "POST", path: done(unknownRequestID), key: "officer", body: contractBodies["POST done"], want: 404})
	a = e.do(t, contractCall{method: "POST", path: done(manual), key: "officer", body: map[string]any{"count": 1}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"evidence": "field.required"})
	a = e.do(t, contractCall{method: "POST", path: done(manual), key: "officer", body: map[string]any{"evidence": "Deleted.", "count": -1}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"count": "error.task.count"})
	e.do(t, contractCall{method: "POST", path: done(manual), key: "officer", body: `{"evidence":"Deleted.","proof":"x"}`, want: 400, docRejects: true})
	a = e.do(t, contractCall{method: "POST", path: done(other), key: "officer", body: contractBodies["POST done"], want: 409})
	if p := a.problem(t); !strings.Contains(p.Title, "waiting for a person") {
		t.Errorf("problem %+v", p)
	}
	a = e.do(t, contractCall{method: "POST", path: done(manual), key: "officer", body: map[string]any{"evidence": "Deleted customer 4471 by hand.", "count": 2}, want: 200})
	if p := progress(a.object(t)); p["ended"].(float64) < 1 || p["failed"] != 1.0 {
		t.Errorf("progress after done: %v", p)
	}

	// Retry: one that has not failed, an unknown one, one with a body that
	// is not empty; then the failed one, and all (none left).
	retry := func(task string) string { return base + "/tasks/" + task + "/retry" }
	e.do(t, contractCall{method: "POST", path: retry(other), key: "officer", want: 409})
	e.do(t, contractCall{method: "POST", path: retry(unknownRequestID), key: "officer", want: 404})
	e.do(t, contractCall{method: "POST", path: retry(failed), key: "auditor", want: 403})
	e.do(t, contractCall{method: "POST", path: retry(failed), key: "officer", body: map[string]any{"all": true}, want: 400, docRejects: true})
	a = e.do(t, contractCall{method: "POST", path: retry(failed), key: "officer", want: 200})
	if p := progress(a.object(t)); p["failed"] != 0.0 {
		t.Errorf("progress after retry: %v", p)
	}
	if listed("controller=nte&tasks=failing") {
		t.Error("listed as failing after the retry")
	}
	a = e.do(t, contractCall{method: "POST", path: base + "/tasks/retry", key: "officer", body: map[string]any{}, want: 409})
	if p := a.problem(t); p.Title != "The case has no task in a state this action applies to." {
		t.Errorf("problem %+v", p)
	}
	if err := tasks.Callback(context.Background(), failed, dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "HTTP 400"}); err != nil {
		t.Fatal(err)
	}
	e.do(t, contractCall{method: "POST", path: base + "/tasks/retry", key: "auditor", want: 403})
	e.do(t, contractCall{method: "POST", path: base + "/tasks/retry", key: "officer", body: `{"x":1}`, want: 400, docRejects: true})
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + unknownRequestID + "/tasks/retry", key: "officer", want: 404})
	e.do(t, contractCall{method: "POST", path: base + "/tasks/retry", key: "officer", want: 200})
	e.do(t, contractCall{method: "GET", path: base + "/tasks", key: "officer", want: 200}).decode(t, &list)
	for _, task := range list.Data {
		if task.ID == failed && (task.Status != "sent" || task.Round != 2) {
			t.Errorf("after retrying all: %+v", task)
		}
	}

	// Skip, with a reason; a task that has ended cannot be skipped.
	skip := func(task string) string { return base + "/tasks/" + task + "/skip" }
	e.do(t, contractCall{method: "POST", path: skip(failed), key: "auditor", body: contractBodies["POST skip"], want: 403})
	e.do(t, contractCall{method: "POST", path: skip(unknownRequestID), key: "officer", body: contractBodies["POST skip"], want: 404})
	a = e.do(t, contractCall{method: "POST", path: skip(failed), key: "officer", body: map[string]any{"reason": " "}, want: 422, docRejects: true})
	problemFields(t, a, map[string]string{"reason": "field.required"})
	e.do(t, contractCall{method: "POST", path: skip(failed), key: "officer", body: `{"reason":null}`, want: 400, docRejects: true})
	e.do(t, contractCall{method: "POST", path: skip(failed), key: "officer", body: contractBodies["POST skip"], want: 200})
	a = e.do(t, contractCall{method: "POST", path: skip(manual), key: "officer", body: contractBodies["POST skip"], want: 409})
	if p := a.problem(t); !strings.Contains(p.Title, "already ended") {
		t.Errorf("problem %+v", p)
	}
	evs := e.events(t, id)
	if last := evs[len(evs)-1]; last.Kind != "task" || last.Reason != contractBodies["POST skip"].(map[string]any)["reason"] {
		t.Errorf("the skip's event %+v", last)
	}
}

// taskContract is a task as the API shows it.
type taskContract struct {
	ID, Target, Status, Answer, Reason string
	Round                              int
}

// contractDownload drives the status page's download: a code mailed, a
// wrong code, the file.
func contractDownload(t *testing.T, e *contractEnv, files dsar.Blobs) {
	e.clock.Set(mustTime("2025-04-24T07:40:00Z"))
	const csrf = "contract-csrf-token"
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "portability", "controller": "nte",
		"subject": map[string]any{"email": "download@example.no"}, "verified": true, "verification_method": "Signed in"}))
	storetest.Ready(t, e.db, id)
	r, err := store.NewRequests(e.db).Get(context.Background(), dsar.Actor{ID: "a", Role: dsar.RoleAdmin}, id)
	if err != nil {
		t.Fatal(err)
	}
	pkg := []byte("PK\x03\x04 the package")
	if _, err := files.Put(context.Background(), r.Results[0].Key, bytes.NewReader(pkg)); err != nil {
		t.Fatal(err)
	}
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/complete", key: "officer", body: contractBodies["POST complete"], want: 200})
	token := e.db.StatusToken(id)
	post := func(path string, form url.Values, want int) contractAnswer {
		t.Helper()
		form.Set("_csrf", csrf)
		return e.do(t, contractCall{method: "POST", path: path, body: form.Encode(), contentType: "application/x-www-form-urlencoded", csrf: csrf, want: want})
	}
	a := post("/s/"+token+"/download/code", url.Values{}, 303)
	if loc := a.header.Get("Location"); loc != "/s/"+token+"?notice=download_code" {
		t.Errorf("Location %q", loc)
	}
	post("/s/"+token+"/download/code", url.Values{}, 429)
	var codeID string
	items, _ := store.NewOutbox(e.db).Due(context.Background(), e.clock.Now(), 100000)
	for _, it := range items {
		var p dsar.MailPayload
		if it.RequestID == id && it.Kind == dsar.OutboxMail && json.Unmarshal(it.Payload, &p) == nil && p.Template == dsar.MailDownloadCode {
			codeID = p.VerificationID
		}
	}
	code := e.db.Keyring.Code(dsar.TokenDownload, codeID)
	wrong := "000000"
	if wrong == code {
		wrong = "111111"
	}
	post("/s/"+token+"/download", url.Values{"code": {wrong}, "file": {"package.zip"}}, 422)
	a = post("/s/"+token+"/download", url.Values{"code": {code}, "file": {"package.zip"}}, 200)
	if !bytes.Equal(a.body, pkg) {
		t.Errorf("the download is %q, want the stored package", a.body)
	}
	post("/s/"+token+"/download", url.Values{"code": {code}, "file": {"report.html"}}, 404)
}

// contractTransmitTo: a portability request may ask for its package to go
// straight to one of the controller's portability recipients, or name
// another organisation; anything else is refused in the caller's language,
// and the answer shows what was asked.
func contractTransmitTo(t *testing.T, e *contractEnv) {
	e.clock.Set(mustTime("2025-04-20T10:00:00Z"))
	ctrl, _ := e.db.Controllers.Get("nte")
	ctrl.PortabilityRecipients = []dsar.PortabilityRecipient{{Key: "kraftbytte", Name: "Kraftbytte AS",
		URL: "https://kraftbytte.example/packages", Secret: dsar.Secret{Env: "KRAFTBYTTE_SECRET"}, Timeout: time.Minute, MaxAttempts: 3}}
	t.Cleanup(func() { ctrl.PortabilityRecipients = nil })
	body := func(typ string, more map[string]any) map[string]any {
		b := map[string]any{"type": typ, "controller": "nte", "subject": map[string]any{"email": "kari@example.no"}}
		maps.Copy(b, more)
		return b
	}

	a := e.do(t, contractCall{method: "GET", path: "/api/v1/controllers", want: 200})
	var list struct {
		Data []struct {
			Key                   string
			PortabilityRecipients []struct{ Key, Name string } `json:"portability_recipients"`
		}
	}
	a.decode(t, &list)
	if i := slices.IndexFunc(list.Data, func(c struct {
		Key                   string
		PortabilityRecipients []struct{ Key, Name string } `json:"portability_recipients"`
	}) bool {
		return c.Key == "nte"
	}); i < 0 || len(list.Data[i].PortabilityRecipients) != 1 || list.Data[i].PortabilityRecipients[0].Name != "Kraftbytte AS" {
		t.Errorf("controllers %+v", list.Data)
	}

	for _, c := range []struct {
		name   string
		body   map[string]any
		lang   string
		fields map[string]string
		msg    string
	}{
		{"unknown key", body("portability", map[string]any{"transmit_to": "elhub"}), "nb",
			map[string]string{"transmit_to": "field.transmit.unknown"}, "Velg en av virksomhetene i listen: kraftbytte, other."},
		{"other unnamed", body("portability", map[string]any{"transmit_to": "other"}), "en",
			map[string]string{"transmit_organisation": "field.transmit.organisation"}, "Write the name of the organisation you want your data sent to."},
		{"not portability", body("access", map[string]any{"transmit_to": "kraftbytte"}), "en",
			map[string]string{"transmit_to": "field.transmit.portability_only"}, "Only a data portability request can be sent directly to another organisation."},
		{"a name with a key", body("portability", map[string]any{"transmit_to": "kraftbytte", "transmit_organisation": "Strøm AS"}), "en",
			map[string]string{"transmit_organisation": "field.transmit.organisation_other"}, ""},
	} {
		a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", lang: c.lang, body: c.body, want: 422})
		p := a.problem(t)
		if got := p.fields(); !maps.Equal(got, c.fields) {
			t.Errorf("%s: errors %v, want %v", c.name, got, c.fields)
		}
		if c.msg != "" && (len(p.Errors) == 0 || p.Errors[0].Message != c.msg) {
			t.Errorf("%s: message %+v, want %q", c.name, p.Errors, c.msg)
		}
	}
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests", want: 422, docRejects: true,
		body: body("portability", map[string]any{"transmit_to": "other", "transmit_organisation": strings.Repeat("o", dsar.MaxOrganisationLength+1)})})

	for _, c := range []struct {
		more map[string]any
		want transmissionAnswer
	}{
		{map[string]any{"transmit_to": "kraftbytte"}, transmissionAnswer{To: "kraftbytte"}},
		{map[string]any{"transmit_to": "other", "transmit_organisation": " Strøm & Sånn AS "}, transmissionAnswer{To: "other", Organisation: "Strøm & Sånn AS"}},
	} {
		a := e.do(t, contractCall{method: "POST", path: "/api/v1/requests", key: "officer", body: body("portability", c.more), want: 201})
		var r struct{ Transmission *transmissionAnswer }
		a.decode(t, &r)
		if r.Transmission == nil || *r.Transmission != c.want {
			t.Errorf("%v: transmission %+v, want %+v", c.more, r.Transmission, c.want)
		}
	}
}

// transmissionAnswer is the transmission of a new request's answer.
type transmissionAnswer struct {
	To, Organisation, State string
}
