package api

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynqmon"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dsar-project/dsar"
)

// statsCollector turns dsar.Stats into gauges, computed from the database
// at every scrape. Its labels are controller keys, statuses and outbox
// kinds: never anything about a data subject.
type statsCollector struct {
	src         dsar.StatsSource
	controllers *dsar.Controllers
	log         *slog.Logger

	up, cases, dueSoon, overdue, pending, lag, failed *prometheus.Desc
}

// NewStatsCollector returns the collector of the dsar_cases* and
// dsar_outbox* gauges read from src. Every status and outbox kind, and every
// configured controller, has a series, at 0 when there is nothing to count.
func NewStatsCollector(src dsar.StatsSource, controllers *dsar.Controllers, log *slog.Logger) prometheus.Collector {
	if log == nil {
		log = slog.Default()
	}
	return &statsCollector{
		src: src, controllers: controllers, log: log,
		up:      prometheus.NewDesc("dsar_stats_up", "Whether the database answered the query behind the dsar_cases and dsar_outbox gauges (1) or not (0).", nil, nil),
		cases:   prometheus.NewDesc("dsar_cases", "Cases by status and controller.", []string{"status", "controller"}, nil),
		dueSoon: prometheus.NewDesc("dsar_cases_due_7d", "Open cases whose deadline falls within the next 7 days, by controller.", []string{"controller"}, nil),
		overdue: prometheus.NewDesc("dsar_cases_overdue", "Open cases whose deadline has passed, by controller.", []string{"controller"}, nil),
		pending: prometheus.NewDesc("dsar_outbox_pending", "Pending outbox rows (queued or waiting for their time), by kind.", []string{"kind"}, nil),
		lag:     prometheus.NewDesc("dsar_outbox_lag_seconds", "How long the oldest pending outbox row whose time has come has waited, in seconds (0 when none waits).", nil, nil),
		failed:  prometheus.NewDesc("dsar_outbox_failed", "Outbox rows given up on after the last retry, by kind; they need an operator.", []string{"kind"}, nil),
	}
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.cases, c.dueSoon, c.overdue, c.pending, c.lag, c.failed} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.src.Stats(ctx)
	if err != nil {
		c.log.Warn("metrics: read the case and outbox counts", "err", err)
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ctrls := map[string]bool{}
	for _, ct := range c.controllers.All() {
		ctrls[ct.Key] = true
	}
	for _, byCtrl := range st.Cases {
		for k := range byCtrl {
			ctrls[k] = true // a case of a controller since removed from the configuration
		}
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for ctrl := range ctrls {
		for _, s := range dsar.Statuses {
			gauge(c.cases, float64(st.Cases[s][ctrl]), string(s), ctrl)
		}
		gauge(c.dueSoon, float64(st.DueSoon[ctrl]), ctrl)
		gauge(c.overdue, float64(st.Overdue[ctrl]), ctrl)
	}
	kinds := map[dsar.OutboxKind]bool{}
	for _, k := range dsar.OutboxKinds {
		kinds[k] = true
	}
	for k := range st.OutboxPending {
		kinds[k] = true
	}
	for k := range st.OutboxFailed {
		kinds[k] = true
	}
	for k := range kinds {
		gauge(c.pending, float64(st.OutboxPending[k]), string(k))
		gauge(c.failed, float64(st.OutboxFailed[k]), string(k))
	}
	gauge(c.lag, st.OutboxLag.Seconds())
}

// newHTTPDuration returns the request latency histogram registered on reg
// (or the one already registered there).
func newHTTPDuration(reg prometheus.Registerer) (*prometheus.HistogramVec, error) {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "dsar_http_request_duration_seconds",
		Help: "HTTP request latency by method, route pattern (never the raw path) and status.",
	}, []string{"method", "route", "status"})
	if err := reg.Register(h); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			return are.ExistingCollector.(*prometheus.HistogramVec), nil
		}
		return nil, err
	}
	return h, nil
}

// observe records one request's latency; the route is the pattern
// ("/api/v1/requests/:id"), "unmatched" when no route matched.
func (s *Server) observe(c echo.Context, d time.Duration) {
	if s.httpDuration == nil {
		return
	}
	route := c.Path()
	if route == "" {
		route = "unmatched"
	}
	s.httpDuration.WithLabelValues(c.Request().Method, route, strconv.Itoa(c.Response().Status)).Observe(d.Seconds())
}

// registerMetrics adds /metrics: the registry's metrics, and the stats
// gauges when the server has a StatsSource.
func (s *Server) registerMetrics(e *echo.Echo) error {
	reg := s.cfg.Metrics
	if s.cfg.Stats != nil {
		if err := reg.Register(NewStatsCollector(s.cfg.Stats, s.cfg.Controllers, s.cfg.Log)); err != nil {
			if _, ok := err.(prometheus.AlreadyRegisteredError); !ok {
				return err
			}
		}
	}
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError, Registry: reg, Timeout: 20 * time.Second,
	})
	e.GET("/metrics", echo.WrapHandler(h), s.metricsAccess)
	return nil
}

// metricsAccess lets through a bearer of DSAR_METRICS_TOKEN or of an admin
// API key, and a signed-in admin. Anyone else is refused: 401, or 403 for a
// known caller who is no admin.
func (s *Server) metricsAccess(next echo.HandlerFunc) echo.HandlerFunc {
	unauthorized := &dsar.Error{Code: dsar.EUNAUTHORIZED, Message: "error.unauthorized"}
	forbidden := &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if h := c.Request().Header.Get(echo.HeaderAuthorization); h != "" {
			scheme, secret, ok := strings.Cut(h, " ")
			secret = strings.TrimSpace(secret)
			if ok && strings.EqualFold(scheme, "Bearer") && secret != "" {
				if tok := s.cfg.MetricsToken; tok != "" && subtle.ConstantTimeCompare([]byte(secret), []byte(tok)) == 1 {
					return next(c)
				}
				if s.cfg.APIKeys != nil {
					key, err := s.cfg.APIKeys.Authenticate(ctx, secret)
					switch {
					case err == nil && key.Role == dsar.RoleAdmin:
						return next(c)
					case err == nil:
						return forbidden
					case dsar.ErrorCode(err) != dsar.EUNAUTHORIZED:
						return err
					}
				}
			}
			// A wrong token costs the caller's address like an anonymous
			// API call, as a wrong API key does.
			if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
				return err
			}
			return unauthorized
		}
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" && s.cfg.Users != nil {
			if u, err := s.cfg.Users.Session(ctx, ck.Value); err == nil {
				if u.Role == dsar.RoleAdmin {
					return next(c)
				}
				return forbidden
			}
		}
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="dsar metrics"`)
		return unauthorized
	}
}

// queuesPath is where the asynq queue monitor is mounted.
const queuesPath = "/admin/queues"

// registerQueues mounts the asynq queue monitor (asynqmon) at /admin/queues
// for signed-in administrators.
func (s *Server) registerQueues(e *echo.Echo) {
	mon := asynqmon.New(asynqmon.Options{RootPath: queuesPath, RedisConnOpt: s.cfg.Queue})
	s.closers = append(s.closers, mon.Close)
	h := echo.WrapHandler(mon)
	// Not the officers' group, whose CSRF check wants a form token: the
	// monitor's calls are JSON, so queuesPolicy requires its unsafe methods
	// to come from its own pages (the SameSite=Lax session cookie keeps
	// other sites out already).
	g := routes{e: e, mw: []echo.MiddlewareFunc{s.pageLanguage, s.session}}
	mw := []echo.MiddlewareFunc{signedIn, adminOnly, queuesPolicy}
	g.Any(queuesPath, h, mw...)
	g.Any(queuesPath+"/*", h, mw...)
}

// queuesPolicy loosens the content security policy for the monitor's
// single-page UI (inline bootstrap script and styles; its web fonts from
// Google stay blocked) and refuses unsafe methods from other origins.
func queuesPolicy(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			site := r.Header.Get("Sec-Fetch-Site")
			origin := r.Header.Get(echo.HeaderOrigin)
			sameOrigin := site == "same-origin" || (site == "" && origin != "" && strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://") == r.Host)
			if !sameOrigin {
				return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
			}
		}
		c.Response().Header().Set("Content-Security-Policy",
			"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "+
				"font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		return next(c)
	}
}

// Close releases what the server holds (the queue monitor's Redis clients).
func (s *Server) Close() error {
	var first error
	for _, f := range s.closers {
		if err := f(); err != nil && first == nil {
			first = err
		}
	}
	s.closers = nil
	return first
}
