package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/workflows"
	"github.com/dsar-project/dsar/workflows/connector"
	httpconn "github.com/dsar-project/dsar/workflows/connector/http"
	"github.com/dsar-project/dsar/workflows/connector/manual"
	"github.com/dsar-project/dsar/workflows/connector/opendsr"
	sqlconn "github.com/dsar-project/dsar/workflows/connector/sql"
	"github.com/dsar-project/dsar/workflows/connector/vendormail"
	"github.com/dsar-project/dsar/workflows/mail"
	"github.com/dsar-project/dsar/workflows/memredis"
)

// App is the wired service: database, queue, mail, and the HTTP server and
// worker built on them. Main builds one per command.
type App struct {
	cfg         *Config
	log         *slog.Logger
	clock       dsar.Clock
	controllers *dsar.Controllers
	db          *store.DB
	redisOpt    asynq.RedisConnOpt
	rdb         redis.UniversalClient
	mem         *memredis.Server
	sender      mail.Sender
	// blobs keeps the case files (collected exports, the subject's files),
	// encrypted at rest, for the commands that run the service.
	blobs dsar.Blobs
	// metrics is the registry served at /metrics: the HTTP server's and,
	// in the all-in-one, the worker's.
	metrics *prometheus.Registry
	// ownMetrics: this process serves no HTTP, so its /metrics listens on
	// DSAR_METRICS_ADDR when set.
	ownMetrics bool
	// workerMetrics are the worker's counters, registered when the App opens
	// so that /metrics shows them from its first scrape.
	workerMetrics *workflows.Metrics
	// listener and metricsListener, when set, are used instead of listening
	// on cfg.Addr and cfg.MetricsAddr (tests).
	listener, metricsListener net.Listener
	// ready is closed once the HTTP server listens, after onReady ran;
	// draining when it begins to shut down.
	ready, draining chan struct{}
	onReady         func()
}

// openOptions says what a command needs.
type openOptions struct {
	embeddedRedis bool // start an in-process Redis when DSAR_REDIS_URL is empty
	needRedis     bool
	needMail      bool
	autoMigrate   bool // migrate the embedded database on start
	ownMetrics    bool // serve /metrics on DSAR_METRICS_ADDR (a worker without HTTP)
}

// Open connects what the command needs, refusing a stale schema.
func Open(ctx context.Context, cfg *Config, log *slog.Logger, clock dsar.Clock, o openOptions) (*App, error) {
	a := &App{cfg: cfg, log: log, clock: clock, ready: make(chan struct{}), draining: make(chan struct{}), metrics: prometheus.NewRegistry(),
		ownMetrics: o.ownMetrics}
	a.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.needMail { // the commands that run the worker
		var err error
		if a.workerMetrics, err = workflows.NewMetrics(a.metrics); err != nil {
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	var err error
	if cfg.ControllersPath != "" {
		a.controllers, err = dsar.LoadControllers(cfg.ControllersPath)
	} else {
		a.controllers, err = dsar.DefaultControllers()
	}
	if err != nil {
		return nil, fmt.Errorf("controllers configuration: %s", dsar.ErrorMessage(err))
	}

	dbURL, embedded := cfg.DatabaseURL, cfg.DatabaseURL == ""
	if embedded {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create DSAR_DATA_DIR: %w", err)
		}
		dbURL = "sqlite:" + filepath.Join(cfg.DataDir, "dsar.db")
	}
	if a.db, err = store.Open(ctx, dbURL, clock, a.controllers); err != nil {
		return nil, err
	}
	if o.needRedis { // serve, worker, all-in-one: the commands that hand out or check tokens
		if a.db.Keyring, err = loadKeyring(cfg, embedded); err != nil {
			return nil, err
		}
	}
	a.db.Policy = cfg.Policy()
	if embedded && o.autoMigrate {
		if _, err := a.db.Migrate(ctx); err != nil {
			return nil, err
		}
	}
	if err := a.db.CheckSchema(ctx); err != nil {
		return nil, err
	}
	if o.needRedis {
		// Every change of the controllers configuration goes into the admin
		// trail, recorded by the first process that runs with it.
		source, content := "built-in examples", dsar.DefaultControllersYAML()
		if cfg.ControllersPath != "" {
			if content, err = os.ReadFile(cfg.ControllersPath); err != nil {
				return nil, err
			}
			source = cfg.ControllersPath
		}
		if _, err := a.db.RecordConfig(ctx, dsar.ActorService, source, content); err != nil {
			return nil, fmt.Errorf("record the configuration in the audit trail: %w", err)
		}
	}

	if o.needRedis {
		switch {
		case cfg.RedisURL != "":
			if a.redisOpt, err = parseRedisURL(cfg.RedisURL); err != nil {
				return nil, err
			}
		case o.embeddedRedis:
			if a.mem, err = memredis.Start(); err != nil {
				return nil, fmt.Errorf("start the in-process Redis: %w", err)
			}
			a.redisOpt = asynq.RedisClientOpt{Addr: a.mem.Addr()}
		default:
			return nil, errors.New("DSAR_REDIS_URL is required: separate serve and worker processes share one Redis (the in-process Redis serves only the all-in-one `dsar`)")
		}
		a.rdb = a.redisOpt.MakeRedisClient().(redis.UniversalClient)
	}
	if o.needRedis { // serve, worker, all-in-one
		if a.blobs, err = openBlobs(ctx, cfg, log, embedded); err != nil {
			return nil, err
		}
	}
	if o.needMail {
		if cfg.SMTPURL != "" {
			a.sender, err = mail.NewSMTP(cfg.SMTPURL)
		} else {
			a.sender, err = mail.NewMailbox(filepath.Join(cfg.DataDir, "mailbox"))
		}
		if err != nil {
			return nil, err
		}
	}
	ok = true
	return a, nil
}

// Close releases everything the App holds.
func (a *App) Close() {
	if a.rdb != nil {
		a.rdb.Close()
	}
	if a.mem != nil {
		a.mem.Close()
	}
	if a.db != nil {
		a.db.Close()
	}
}

// parseRedisURL accepts what asynq.ParseRedisURI does (redis://, rediss://,
// redis-socket://, redis-sentinel://) and redis-cluster://host1:port,host2:port.
func parseRedisURL(raw string) (asynq.RedisConnOpt, error) {
	if rest, ok := strings.CutPrefix(raw, "redis-cluster://"); ok {
		u, err := url.Parse("redis://" + rest)
		if err != nil {
			return nil, errors.New("DSAR_REDIS_URL: malformed redis-cluster:// URL")
		}
		opt := asynq.RedisClusterClientOpt{Addrs: strings.Split(u.Host, ",")}
		if u.User != nil {
			opt.Username = u.User.Username()
			opt.Password, _ = u.User.Password()
		}
		return opt, nil
	}
	opt, err := asynq.ParseRedisURI(raw)
	if err != nil {
		return nil, fmt.Errorf("DSAR_REDIS_URL: want redis://, rediss://, redis-socket://, redis-sentinel:// or redis-cluster:// (%s)", redactSecret(raw))
	}
	return opt, nil
}

// ready reports whether the database and Redis answer.
func (a *App) checkReady(ctx context.Context) error {
	if err := a.db.Ping(ctx); err != nil {
		return err
	}
	if err := a.db.CheckSchema(ctx); err != nil {
		return err
	}
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return dsar.Errorf(dsar.EUNAVAILABLE, "redis: %v", err)
	}
	return nil
}

// Serve runs the HTTP server until ctx ends, then drains it within the
// shutdown timeout.
func (a *App) Serve(ctx context.Context) error {
	reqs, keys := store.NewRequests(a.db), store.NewAPIKeys(a.db)
	box, _ := a.sender.(*mail.Mailbox) // the embedded default keeps mail to show it
	var sso *api.OIDC
	if a.cfg.OIDCIssuer != "" {
		sso = &api.OIDC{Issuer: a.cfg.OIDCIssuer, ClientID: a.cfg.OIDCClientID, ClientSecret: a.cfg.OIDCClientSecret, Name: a.cfg.OIDCName}
	}
	srv, err := api.New(api.Config{
		OIDC:    sso,
		Mailbox: box, Users: store.NewUsers(a.db),
		Requests: reqs, Cases: reqs, Subjects: store.NewSubjects(a.db), Policy: a.cfg.Policy(),
		Tasks: store.NewTasks(a.db), Suppression: reqs, Blobs: a.blobs, Idempotency: store.NewIdempotency(a.db), Webhooks: store.NewWebhooks(a.db),
		APIKeys: keys, Admin: store.NewAdmin(a.db, keys), Controllers: a.controllers, Clock: a.clock, BaseURL: a.cfg.BaseURL, Keyring: a.db.Keyring,
		Limiter: api.NewRedisLimiter(a.rdb), Ready: a.checkReady, Log: a.log,
		BodyLimit: a.cfg.BodyLimit, PublicPerMinute: a.cfg.PublicRateLimit, KeyPerMinute: a.cfg.KeyRateLimit,
		TrustedProxies: a.cfg.TrustedProxies, OpenDSR: store.NewOpenDSR(a.db), OpenDSRSigner: a.cfg.OpenDSR,
		Metrics: a.metrics, Stats: a.db, Dashboard: a.db, MetricsToken: a.cfg.MetricsToken, Queue: a.redisOpt,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	hs := &http.Server{
		Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	ln := a.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", a.cfg.Addr); err != nil {
			return fmt.Errorf("listen on DSAR_ADDR %s: %w", a.cfg.Addr, err)
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if a.onReady != nil {
		a.onReady()
	}
	close(a.ready)
	a.log.Info("http server listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	a.log.Info("http server draining", "timeout", a.cfg.ShutdownTimeout.String())
	shut := make(chan error, 1)
	go func() { shut <- hs.Shutdown(sctx) }()
	close(a.draining)
	if err := <-shut; err != nil {
		return fmt.Errorf("drain http: %w", err)
	}
	return nil
}

// Work runs the queue worker and the outbox dispatcher until ctx ends, then
// lets running tasks finish within the shutdown timeout (asynq puts back
// what does not finish, and the outbox row's lease lets another worker take
// it over).
func (a *App) Work(ctx context.Context) error {
	outbox := store.NewOutbox(a.db)
	client := asynq.NewClient(a.redisOpt)
	defer client.Close()
	reqs := store.NewRequests(a.db)
	h := &workflows.Handlers{
		Outbox: outbox, Requests: reqs, Cases: reqs, Jobs: store.NewSubjects(a.db), Keyring: a.db.Keyring, Officers: store.NewUsers(a.db), Audit: a.db,
		BaseURL: a.cfg.BaseURL, Policy: a.cfg.Policy(), Controllers: a.controllers, Sender: a.sender, Results: store.NewResults(a.db),
		Clock: a.clock, Log: a.log, From: a.cfg.MailFrom, MessageIDDomain: a.cfg.MessageIDDomain(),
		Metrics: a.workerMetrics, Tasks: store.NewTasks(a.db), Retention: a.retention(), Blobs: a.blobs,
		Webhooks: store.NewWebhooks(a.db), WebhookClient: workflows.NewWebhookClient(a.cfg.WebhookTimeout, a.cfg.WebhookAllowPrivate),
		OpenDSRSigner: a.cfg.OpenDSR,
	}
	defer h.WebhookClient.Close()
	conns, closeConns := a.connectors()
	defer closeConns()
	h.Connectors = conns
	mux := asynq.NewServeMux()
	h.Register(mux)
	srv := asynq.NewServer(a.redisOpt, asynq.Config{
		Concurrency: a.cfg.WorkerConcurrency, Queues: map[string]int{workflows.Queue: 1}, TaskCheckInterval: workflows.TaskCheckInterval,
		ShutdownTimeout: a.cfg.ShutdownTimeout, Logger: workflows.NewAsynqLogger(a.log), LogLevel: asynq.WarnLevel,
	})
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	d := &workflows.Dispatcher{Outbox: outbox, Client: client, Clock: a.clock, Log: a.log, Planners: workflows.Planners(a.db),
		Budget: a.cfg.ReconcileInterval}
	if a.cfg.MetricsAddr != "" && a.ownMetrics {
		// A separate worker serves its own counters for Prometheus.
		stop, err := a.serveWorkerMetrics()
		if err != nil {
			srv.Shutdown()
			return err
		}
		defer stop()
	}
	a.log.Info("worker running", "concurrency", a.cfg.WorkerConcurrency)
	d.Run(ctx, a.cfg.DispatchInterval, a.cfg.ReconcileInterval)
	a.log.Info("worker draining", "timeout", a.cfg.ShutdownTimeout.String())
	srv.Shutdown()
	return nil
}

// retention returns the records retention runner of the app's database,
// its case files and its local mailbox when it keeps one.
func (a *App) retention() *workflows.Retention {
	box, _ := a.sender.(*mail.Mailbox)
	return &workflows.Retention{DB: a.db, Blobs: a.blobs, Mailbox: box, Clock: a.clock, Log: a.log}
}

// All runs the HTTP server and the worker in one process.
func (a *App) All(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.Serve(ctx) })
	g.Go(func() error { return a.Work(ctx) })
	return g.Wait()
}

// loadKeyring returns the keyring of DSAR_SECRET_KEY. On the embedded
// default without one, a secret is generated once and kept in the data
// directory; with Postgres every process must be given the same secret.
func loadKeyring(cfg *Config, embedded bool) (*dsar.Keyring, error) {
	secret := []byte(cfg.SecretKey)
	if len(secret) == 0 {
		if !embedded {
			return nil, errors.New("DSAR_SECRET_KEY is required with DSAR_DATABASE_URL: every serve and worker process must share it (generate one with: openssl rand -base64 48)")
		}
		path := filepath.Join(cfg.DataDir, "secret.key")
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			b = make([]byte, 48)
			_, _ = rand.Read(b)
			b = []byte(base64.StdEncoding.EncodeToString(b))
			if err = os.WriteFile(path, b, 0o600); err != nil {
				return nil, fmt.Errorf("keep the generated secret key: %w", err)
			}
		} else if err != nil {
			return nil, fmt.Errorf("read the secret key: %w", err)
		}
		secret = b
	}
	return dsar.NewKeyring(secret)
}

// serveWorkerMetrics serves /metrics of a separate worker on
// DSAR_METRICS_ADDR, for a bearer of DSAR_METRICS_TOKEN, until stop.
func (a *App) serveWorkerMetrics() (stop func(), err error) {
	ln := a.metricsListener
	if ln == nil {
		if ln, err = net.Listen("tcp", a.cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("listen on DSAR_METRICS_ADDR %s: %w", a.cfg.MetricsAddr, err)
		}
	}
	want := []byte("Bearer " + a.cfg.MetricsToken)
	metrics := promhttp.HandlerFor(a.metrics, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dsar metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		metrics.ServeHTTP(w, r)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	a.log.Info("worker metrics listening", "addr", ln.Addr().String())
	return func() { hs.Close() }, nil
}

// connectors returns the connector of every kind the worker reaches systems
// through, and what releases what they hold (connections, pools) when the
// worker stops.
func (a *App) connectors() (connector.Set, func()) {
	web, db, dsr := httpconn.New(a.clock, a.log), sqlconn.New(a.db.Keyring, a.log), opendsr.New(a.clock, a.log)
	set := connector.Set{dsar.ConnectorManual: manual.Connector{}, dsar.ConnectorHTTP: web, dsar.ConnectorSQL: db, dsar.ConnectorOpenDSR: dsr,
		dsar.ConnectorVendorMail: &vendormail.Connector{Sender: a.sender, From: a.cfg.MailFrom,
			MessageIDDomain: a.cfg.MessageIDDomain(), Clock: a.clock, Log: a.log}}
	return set, func() {
		web.Close()
		db.Close()
		dsr.Close()
	}
}
