// Package api is the HTTP face of the service on echo: the public intake,
// the officers' and integrations' requests API, the health endpoints and
// the OpenAPI document. It validates input, calls one domain operation per
// request, and maps domain error codes to HTTP statuses in one place
// (errors.go). It never runs SQL.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/mail"
)

// Config is what the HTTP server needs from its surroundings.
type Config struct {
	Requests dsar.RequestService
	Cases    dsar.CaseService
	Subjects dsar.SubjectService
	APIKeys  dsar.APIKeyService
	// Tasks takes the answers of connected systems and vendors to their
	// tasks (callbacks, confirmations); Suppression answers whether an
	// address is on a controller's suppression list.
	Tasks       dsar.TaskService
	Suppression dsar.SuppressionList
	// Idempotency records the Idempotency-Key of the API's calls that
	// change something; nil leaves the header unheeded (tests of other
	// things only).
	Idempotency dsar.Idempotency
	// Blobs keeps the case files: the data of the export tasks officers did
	// by hand (the files they upload) and the files the subject downloads
	// from the status page; without it, uploads and downloads are refused.
	Blobs dsar.Blobs
	// Users, when set, enables officers' sign-in and pages; OIDC, when set
	// too, single sign-on.
	Users       dsar.UserService
	OIDC        *OIDC
	Controllers *dsar.Controllers
	Clock       dsar.Clock
	// Keyring signs the CSRF tokens of the pages' forms; the pages (Subjects
	// or Users) need it.
	Keyring *dsar.Keyring
	// Mailbox, when set, is the local mailbox of the embedded default,
	// shown at /mailbox to administrators.
	Mailbox *mail.Mailbox
	// BaseURL is the service's public URL; Policy the subject-facing
	// limits (how long a verification or download code is valid, the
	// download window and count); the zero Policy means dsar.DefaultPolicy.
	BaseURL string
	Policy  dsar.Policy
	// Limiter limits calls per client; nil disables rate limiting (tests of
	// other things only).
	Limiter RateLimiter
	// Ready reports whether the database and the queue answer.
	Ready func(ctx context.Context) error
	Log   *slog.Logger
	// BodyLimit is the largest request body accepted, in bytes.
	BodyLimit int64
	// PublicPerMinute is how many calls an anonymous client address may make
	// a minute; KeyPerMinute the same for one API key.
	PublicPerMinute int
	KeyPerMinute    int
	// TrustedProxies lists the networks of reverse proxies whose
	// X-Forwarded-For header is believed; empty means the peer address is the
	// client.
	TrustedProxies []string
	// Metrics, when set, is the registry served at /metrics, with the
	// request latency histogram and, when Stats is set, the case and outbox
	// gauges. MetricsToken is a bearer token that may read it besides
	// signed-in admins and admin API keys.
	Metrics      *prometheus.Registry
	Stats        dsar.StatsSource
	MetricsToken string
	// Dashboard, when set with Users, computes the officers' dashboard.
	Dashboard dsar.DashboardSource
	// Admin, when set with Users, mounts the administration pages of the
	// officers' accounts and the API keys at /admin/users and /admin/keys.
	Admin dsar.Administration
	// Webhooks, when set, mounts the administrators' API of the webhook
	// subscriptions at /api/v1/webhooks.
	Webhooks dsar.WebhookService
	// OpenDSR and OpenDSRSigner, when both set, mount the OpenDSR 2.0
	// intake at /opendsr/v2 (registerOpenDSR): its answers are signed with
	// the signer's key, and its discovery names BaseURL's certificate URL.
	OpenDSR       dsar.OpenDSRService
	OpenDSRSigner *dsar.OpenDSRSigner
	// Queue, when set with Users, mounts the asynq queue monitor at
	// /admin/queues for signed-in admins; call Close to release it.
	Queue asynq.RedisConnOpt
}

// Server is the HTTP server.
type Server struct {
	cfg          Config
	echo         *echo.Echo
	httpDuration *prometheus.HistogramVec
	closers      []func() error
	// oidc is the single sign-on provider once its discovery document was
	// read (oidcProvider).
	oidcMu sync.Mutex
	oidc   *oidc.Provider
}

// New returns the server with every route registered.
func New(cfg Config) (*Server, error) {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = 64 << 10
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(cfg.Log)
	ipx, err := ipExtractor(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	e.IPExtractor = ipx
	if (cfg.Subjects != nil || cfg.Users != nil) && cfg.Keyring == nil {
		return nil, errors.New("api: the pages need a keyring for their CSRF tokens")
	}
	s := &Server{cfg: cfg, echo: e}
	if cfg.Metrics != nil {
		if s.httpDuration, err = newHTTPDuration(cfg.Metrics); err != nil {
			return nil, err
		}
	}

	e.Use(middleware.Recover())
	e.Use(middleware.RequestID())
	e.Use(s.logRequests)
	e.Use(s.limitBody)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection: "0", ContentTypeNosniff: "nosniff", XFrameOptions: "DENY",
		ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'", ReferrerPolicy: "no-referrer",
	}))
	e.Use(s.plainPath)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/openapi.yaml", s.openapi)
	if cfg.Metrics != nil {
		if err := s.registerMetrics(e); err != nil {
			return nil, err
		}
	}
	if cfg.Subjects != nil {
		s.registerPages(e)
	}
	if cfg.Users != nil {
		s.registerOfficers(e)
		if cfg.Mailbox != nil {
			s.registerMailbox(e, cfg.Mailbox)
		}
		if cfg.Queue != nil {
			s.registerQueues(e)
		}
		if cfg.Admin != nil {
			s.registerAdmin(e)
		}
	}

	v1 := routes{e: e, prefix: "/api/v1", mw: []echo.MiddlewareFunc{s.authenticate, s.rateLimit}, last: s.idempotent}
	read, write := scope(dsar.ScopeRequestsRead), scope(dsar.ScopeCasesWrite)
	v1.GET("/controllers", s.listControllers)
	v1.GET("/controllers/:key/datamap", s.getDataMap, s.requireKey, read)
	v1.POST("/requests", s.createRequest, scope(dsar.ScopeRequestsCreate))
	v1.GET("/requests", s.listRequests, s.requireKey, read)
	v1.GET("/requests/:id", s.getRequest, s.requireKey, read)
	v1.GET("/requests/:id/events", s.listEvents, s.requireKey, read)
	v1.POST("/requests/:id/extend", s.extendRequest, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/pause", s.pauseRequest, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/resume", s.resumeRequest, s.requireKey, write, s.mayChange)
	v1.GET("/requests/:id/messages", s.listMessages, s.requireKey, read)
	v1.POST("/requests/:id/messages", s.askSubject, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/verify", s.markVerified, s.requireKey, write, s.mayChange)
	v1.GET("/requests/:id/documents", s.listDocuments, s.requireKey, read, s.mayChange)
	v1.GET("/requests/:id/documents/:doc", s.getDocument, s.requireKey, read, s.mayChange)
	v1.POST("/requests/:id/complete", s.completeRequest, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/refuse", s.refuseRequest, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/assign", s.assignRequest, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/notes", s.noteRequest, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/reopen", s.reopenRequest, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/approve", s.approveRequest, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/forward", s.forwardRequest, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/fee", s.announceFee, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/objection", s.classifyObjection, s.requireKey, write, s.mayChange)
	v1.GET("/requests/:id/actions", s.listActions, s.requireKey, read)
	v1.GET("/requests/:id/plan", s.getPlan, s.requireKey, read)
	v1.GET("/requests/:id/tasks", s.listTasks, s.requireKey, read)
	v1.POST("/requests/:id/tasks/retry", s.retryTasks, s.requireKey, write, s.mayChange)
	v1.POST(strings.TrimPrefix(taskDoneRoute, "/api/v1"), s.completeTask, s.requireKey, taskDoneScope, s.mayChange)
	v1.POST("/requests/:id/tasks/:task/skip", s.skipTask, s.requireKey, write, s.mayChange)
	v1.POST("/requests/:id/tasks/:task/retry", s.retryTasks, s.requireKey, write, s.mayChange)
	v1.GET("/requests/:id/results/:name", s.resultFile, s.requireKey, read, s.mayChange)
	v1.GET("/requests/:id/redactions", s.redactions, s.requireKey, read)
	v1.POST("/requests/:id/redactions", s.redact, s.requireKey, write, s.mayChange)
	if cfg.Suppression != nil {
		v1.POST("/suppression/check", s.checkSuppression, s.requireKey, scope(dsar.ScopeSuppressionCheck))
	}
	if cfg.Webhooks != nil {
		manage := scope(dsar.ScopeWebhooksManage)
		v1.GET("/webhooks", s.listWebhooks, s.requireKey, manage, s.mayManageWebhooks)
		v1.POST("/webhooks", s.createWebhook, s.requireKey, manage, s.mayManageWebhooks)
		v1.GET("/webhooks/:id", s.getWebhook, s.requireKey, manage, s.mayManageWebhooks)
		v1.PUT("/webhooks/:id", s.updateWebhook, s.requireKey, manage, s.mayManageWebhooks)
		v1.DELETE("/webhooks/:id", s.deleteWebhook, s.requireKey, manage, s.mayManageWebhooks)
		v1.POST("/webhooks/:id/rotate", s.rotateWebhook, s.requireKey, manage, s.mayManageWebhooks)
		v1.GET("/webhooks/:id/deliveries", s.listWebhookDeliveries, s.requireKey, manage, s.mayManageWebhooks)
		v1.POST("/webhooks/:id/redeliver", s.redeliverWebhook, s.requireKey, manage, s.mayManageWebhooks)
		v1.POST("/webhooks/:id/test", s.testWebhook, s.requireKey, manage, s.mayManageWebhooks)
	}
	if cfg.OpenDSR != nil && cfg.OpenDSRSigner != nil {
		s.registerOpenDSR(e)
	}
	if cfg.Tasks != nil && cfg.Keyring != nil {
		// Signed by the system or vendor, not called with an API key.
		v1.POST("/tasks/:id/callback", s.taskCallback)
		v1.POST("/opendsr/callback/:id", s.openDSRCallback)
	}
	return s, nil
}

// routes adds routes that share middleware, to each route. An echo group
// with middleware would not do: it adds catch-all routes under its prefix,
// so that its middleware runs for unknown paths too, and those answer 404
// where a path is known under another method, which deserves 405 with
// Allow. Without them, an unknown path is a plain 404 for everyone.
//
// last, when set, runs last before the handler of every route that may
// change something (POST): the Idempotency-Key.
type routes struct {
	e      *echo.Echo
	prefix string
	mw     []echo.MiddlewareFunc
	last   echo.MiddlewareFunc
}

// GET adds a GET route with the shared middleware, then mw.
func (r routes) GET(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.e.GET(r.prefix+path, h, r.with(mw)...)
}

// POST adds a POST route with the shared middleware, then mw, then last.
func (r routes) POST(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	all := r.with(mw)
	if r.last != nil {
		all = append(all, r.last)
	}
	r.e.POST(r.prefix+path, h, all...)
}

// PUT adds a PUT route with the shared middleware, then mw.
func (r routes) PUT(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.e.PUT(r.prefix+path, h, r.with(mw)...)
}

// DELETE adds a DELETE route with the shared middleware, then mw.
func (r routes) DELETE(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.e.DELETE(r.prefix+path, h, r.with(mw)...)
}

// Any adds a route for every method with the shared middleware, then mw.
func (r routes) Any(path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	r.e.Any(r.prefix+path, h, r.with(mw)...)
}

func (r routes) with(mw []echo.MiddlewareFunc) []echo.MiddlewareFunc {
	return append(slices.Clone(r.mw), mw...)
}

// ServeHTTP serves one HTTP request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Routes lists the registered routes as "METHOD path", for tests that check
// every route's protection.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.echo.Routes() {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(ctx); err != nil {
			s.cfg.Log.Warn("not ready", "err", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// logRequests logs one line per request: the route pattern (never the path,
// which may carry IDs), status and duration, and no client address or
// query, which may be personal data.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		s.observe(c, time.Since(start))
		s.cfg.Log.Info("http",
			"method", c.Request().Method, "route", c.Path(), "status", c.Response().Status,
			"ms", time.Since(start).Milliseconds(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
		return nil
	}
}

// plainPath answers 404 for a path with a character no identifier, token
// or key holds (a control character, a text-direction override, bytes that
// are not UTF-8): it names nothing, and it must not reach the database,
// which may refuse to compare such text at all. The API answers with a
// problem document, the pages with an error page.
func (s *Server) plainPath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		path := c.Request().URL.Path
		switch {
		case dsar.PlainText(path, false):
			return next(c)
		case strings.HasPrefix(path, "/api/"):
			return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
		}
		return s.pageLanguage(func(c echo.Context) error { return s.errorPage(c, http.StatusNotFound, "error.not_found") })(c)
	}
}

// limitBody refuses bodies over the limit: at once when Content-Length says
// so, and while reading otherwise.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		limit := s.cfg.BodyLimit
		switch c.Path() {
		case "/s/:token/reply": // may carry an identity document
			limit += dsar.MaxDocumentSize
		case taskCallbackRoute, openDSRCallbackRoute:
			limit = min(limit, maxCallbackBody)
		case taskDoneRoute, caseActionRoute: // may carry an export's data
			if isMultipart(r) {
				limit += dsar.MaxExportUpload
			}
		}
		if r.ContentLength > limit {
			return tooLarge(limit)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}
