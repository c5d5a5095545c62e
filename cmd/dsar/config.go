package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
)

// Config is the effective configuration, read from DSAR_* environment
// variables and validated at start.
type Config struct {
	Addr              string
	DataDir           string
	DatabaseURL       string
	RedisURL          string
	SMTPURL           string
	ControllersPath   string
	BaseURL           string
	MailFrom          string
	LogLevel          string
	LogFormat         string
	ShutdownTimeout   time.Duration
	BodyLimit         int64
	PublicRateLimit   int
	KeyRateLimit      int
	TrustedProxies    []string
	WorkerConcurrency int
	DispatchInterval  time.Duration
	ReconcileInterval time.Duration
	SecretKey         string
	VerifyTTL         time.Duration
	UnverifiedExpiry  time.Duration
	StatusLinkTTL     time.Duration
	DownloadTTL       time.Duration
	MaxDownloads      int
	MetricsToken      string
	MetricsAddr       string
	OIDCIssuer        string
	OIDCClientID      string
	OIDCClientSecret  string
	OIDCName          string
	// Storage is where case files are kept: "dir" or "s3".
	Storage           string
	S3Endpoint        string
	S3Bucket          string
	S3Region          string
	S3AccessKey       string
	S3SecretKey       string
	S3Insecure        bool
	EncryptionKey     string
	EncryptionOldKeys string
	// WebhookTimeout is how long a webhook delivery waits for an answer;
	// WebhookAllowPrivate lets deliveries go to private, loopback and
	// link-local addresses.
	WebhookTimeout      time.Duration
	WebhookAllowPrivate bool
	// OpenDSRCertificate and OpenDSRKey are the PEM files of the
	// certificate and key that sign the OpenDSR intake's answers and
	// callbacks, for OpenDSRDomain (default: the host of BaseURL); without
	// them the intake is off. OpenDSR is their signer, read at start.
	OpenDSRCertificate string
	OpenDSRKey         string
	OpenDSRDomain      string
	OpenDSR            *dsar.OpenDSRSigner
}

// option is one environment variable: its name, default, what it means,
// whether it is a secret (then NAME_FILE may name a file holding it, and it
// is never printed), and how it sets the Config.
type option struct {
	name   string
	def    string
	help   string
	secret bool
	set    func(c *Config, v string) error
	get    func(c *Config) string
}

func str(p func(*Config) *string) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error { *p(c) = v; return nil }, func(c *Config) string { return *p(c) }
}

func dur(p func(*Config) *time.Duration) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fmt.Errorf("want a positive duration such as 30s or 2m, got %q", v)
			}
			*p(c) = d
			return nil
		}, func(c *Config) string {
			return p(c).String()
		}
}

func num(p func(*Config) *int) (func(*Config, string) error, func(*Config) string) {
	return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return fmt.Errorf("want a whole number of 0 or more, got %q", v)
			}
			*p(c) = n
			return nil
		}, func(c *Config) string {
			return strconv.Itoa(*p(c))
		}
}

func opt(name, def, help string, secret bool, set func(*Config, string) error, get func(*Config) string) option {
	return option{name: name, def: def, help: help, secret: secret, set: set, get: get}
}

// options is the configuration table; the README's table is made from the
// same names (a test compares them).
var options = func() []option {
	var o []option
	add := func(name, def, help string, secret bool, sg func() (func(*Config, string) error, func(*Config) string)) {
		s, g := sg()
		o = append(o, opt(name, def, help, secret, s, g))
	}
	add("DSAR_ADDR", ":8080", "HTTP listen address", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.Addr })
	})
	add("DSAR_DATA_DIR", "dsar-data", "directory of the embedded default: database file, local mailbox, generated keys; and case files with DSAR_STORAGE=dir", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.DataDir })
	})
	add("DSAR_DATABASE_URL", "", "postgres://… for PostgreSQL; empty: embedded SQLite file in DSAR_DATA_DIR", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.DatabaseURL })
	})
	add("DSAR_REDIS_URL", "", "redis://, rediss://, redis-sentinel://, redis-cluster://; empty: in-process Redis (all-in-one only)", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.RedisURL })
	})
	add("DSAR_SMTP_URL", "", "smtp://user:pass@host:587 (STARTTLS) or smtps://…:465; empty: local mailbox in DSAR_DATA_DIR", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.SMTPURL })
	})
	add("DSAR_SECRET_KEY", "", "server secret (32+ bytes) from which subjects' link tokens and codes derive; empty: generated into DSAR_DATA_DIR (embedded default only)", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.SecretKey })
	})
	add("DSAR_METRICS_TOKEN", "", "bearer token that may read /metrics (besides signed-in admins and admin API keys); empty: none", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.MetricsToken })
	})
	add("DSAR_METRICS_ADDR", "", "listen address of /metrics for `dsar worker` (which serves no HTTP otherwise); needs DSAR_METRICS_TOKEN", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.MetricsAddr })
	})
	add("DSAR_OIDC_ISSUER", "", "OpenID Connect issuer URL for officers' single sign-on (https://login.microsoftonline.com/TENANT/v2.0, …); empty: passwords only", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.OIDCIssuer })
	})
	add("DSAR_OIDC_CLIENT_ID", "", "the client ID dsar is registered with at the provider", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.OIDCClientID })
	})
	add("DSAR_OIDC_CLIENT_SECRET", "", "its client secret", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.OIDCClientSecret })
	})
	add("DSAR_OIDC_NAME", "single sign-on", "the provider's name on the sign-in button", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.OIDCName })
	})
	add("DSAR_STORAGE", "dir", "where case files (collected exports, packages) are kept: dir (DSAR_DATA_DIR/blobs) or s3", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.Storage })
	})
	add("DSAR_S3_ENDPOINT", "", "S3-compatible object storage: host[:port] (https://host also taken)", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.S3Endpoint })
	})
	add("DSAR_S3_BUCKET", "", "the bucket, which must exist", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.S3Bucket })
	})
	add("DSAR_S3_REGION", "", "the bucket's region; empty: us-east-1", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.S3Region })
	})
	add("DSAR_S3_ACCESS_KEY", "", "access key ID", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.S3AccessKey })
	})
	add("DSAR_S3_SECRET_KEY", "", "secret access key", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.S3SecretKey })
	})
	add("DSAR_S3_INSECURE", "false", "true: plain HTTP to the endpoint (a local server), not HTTPS", false, func() (func(*Config, string) error, func(*Config) string) {
		return func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fmt.Errorf("want true or false, got %q", v)
				}
				c.S3Insecure = b
				return nil
			}, func(c *Config) string {
				return strconv.FormatBool(c.S3Insecure)
			}
	})
	add("DSAR_ENCRYPTION_KEY", "", "key that encrypts case files at rest: 32 bytes in base64 or hex (openssl rand -base64 32); required with PostgreSQL; empty: generated into DSAR_DATA_DIR (embedded default only)", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.EncryptionKey })
	})
	add("DSAR_ENCRYPTION_OLD_KEYS", "", "comma-separated earlier keys, which only read files not yet re-encrypted (dsar keys rotate)", true, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.EncryptionOldKeys })
	})
	add("DSAR_CONFIG", "", "controllers YAML file; empty: the shipped examples", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.ControllersPath })
	})
	add("DSAR_BASE_URL", "", "public URL of the service, used in e-mailed links; empty: http://localhost:<port>", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.BaseURL })
	})
	add("DSAR_MAIL_FROM", "", "sender address of outgoing mail; empty: dsar@<host of DSAR_BASE_URL>", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.MailFrom })
	})
	add("DSAR_LOG_LEVEL", "info", "debug, info, warn or error", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.LogLevel })
	})
	add("DSAR_LOG_FORMAT", "text", "text or json", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.LogFormat })
	})
	add("DSAR_SHUTDOWN_TIMEOUT", "30s", "how long SIGTERM waits for HTTP requests and running tasks", false, func() (func(*Config, string) error, func(*Config) string) {
		return dur(func(c *Config) *time.Duration { return &c.ShutdownTimeout })
	})
	add("DSAR_BODY_LIMIT", "65536", "largest accepted request body, in bytes", false, func() (func(*Config, string) error, func(*Config) string) {
		return func(c *Config, v string) error {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 1024 {
					return fmt.Errorf("want a number of bytes of at least 1024, got %q", v)
				}
				c.BodyLimit = n
				return nil
			}, func(c *Config) string {
				return strconv.FormatInt(c.BodyLimit, 10)
			}
	})
	add("DSAR_PUBLIC_RATE_LIMIT", "20", "API calls a minute per anonymous client address (0: no limit)", false, func() (func(*Config, string) error, func(*Config) string) {
		return num(func(c *Config) *int { return &c.PublicRateLimit })
	})
	add("DSAR_KEY_RATE_LIMIT", "6000", "API calls a minute per API key (0: no limit)", false, func() (func(*Config, string) error, func(*Config) string) {
		return num(func(c *Config) *int { return &c.KeyRateLimit })
	})
	add("DSAR_TRUSTED_PROXIES", "", "comma-separated CIDR networks of reverse proxies whose X-Forwarded-For is believed", false, func() (func(*Config, string) error, func(*Config) string) {
		return func(c *Config, v string) error {
				c.TrustedProxies = nil
				for _, p := range strings.Split(v, ",") {
					if p = strings.TrimSpace(p); p != "" {
						c.TrustedProxies = append(c.TrustedProxies, p)
					}
				}
				return nil
			}, func(c *Config) string {
				return strings.Join(c.TrustedProxies, ",")
			}
	})
	add("DSAR_WORKER_CONCURRENCY", "10", "tasks one worker process runs at once", false, func() (func(*Config, string) error, func(*Config) string) {
		return num(func(c *Config) *int { return &c.WorkerConcurrency })
	})
	add("DSAR_DISPATCH_INTERVAL", "1s", "how often a worker moves due outbox rows to the queue", false, func() (func(*Config, string) error, func(*Config) string) {
		return dur(func(c *Config) *time.Duration { return &c.DispatchInterval })
	})
	add("DSAR_RECONCILE_INTERVAL", "30s", "how often a worker re-queues outbox rows the queue lost", false, func() (func(*Config, string) error, func(*Config) string) {
		return dur(func(c *Config) *time.Duration { return &c.ReconcileInterval })
	})
	add("DSAR_VERIFY_TTL", "24h", "how long a verification link and code are valid", false, func() (func(*Config, string) error, func(*Config) string) {
		return dur(func(c *Config) *time.Duration { return &c.VerifyTTL })
	})
	add("DSAR_UNVERIFIED_EXPIRY", "336h", "age at which a request never verified closes as expired (14 days)", false, func() (func(*Config, string) error, func(*Config) string) {
		return dur(func(c *Config) *time.Duration { return &c.UnverifiedExpiry })
	})
	add("DSAR_STATUS_LINK_TTL", "2160h", "how long a subject's status page link works after the request closed (90 days)", false, func() (func(*Config, string) error, func(*Config) string) {
		return dur(func(c *Config) *time.Duration { return &c.StatusLinkTTL })
	})
	add("DSAR_DOWNLOAD_TTL", "168h", "how long the subject can download the files of an answered access or portability request (to the end of that day); they are deleted then (7 days)", false, func() (func(*Config, string) error, func(*Config) string) {
		return dur(func(c *Config) *time.Duration { return &c.DownloadTTL })
	})
	add("DSAR_WEBHOOK_TIMEOUT", "10s", "how long a webhook delivery waits for the endpoint's answer", false, func() (func(*Config, string) error, func(*Config) string) {
		return dur(func(c *Config) *time.Duration { return &c.WebhookTimeout })
	})
	add("DSAR_WEBHOOK_ALLOW_PRIVATE", "false", "true: webhooks may go to private, loopback and link-local addresses (an endpoint inside the deployment's own network)", false, func() (func(*Config, string) error, func(*Config) string) {
		return func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fmt.Errorf("want true or false, got %q", v)
				}
				c.WebhookAllowPrivate = b
				return nil
			}, func(c *Config) string {
				return strconv.FormatBool(c.WebhookAllowPrivate)
			}
	})
	add("DSAR_OPENDSR_CERTIFICATE", "", "PEM file of the certificate that signs the OpenDSR 2.0 intake's answers and status callbacks (served at /opendsr/v2/cert.pem); empty: no OpenDSR intake", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.OpenDSRCertificate })
	})
	add("DSAR_OPENDSR_KEY", "", "PEM file of that certificate's private key (RSA or ECDSA)", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.OpenDSRKey })
	})
	add("DSAR_OPENDSR_DOMAIN", "", "the OpenDSR processor domain (X-OpenDSR-Processor-Domain), a name of the certificate; empty: the host of DSAR_BASE_URL", false, func() (func(*Config, string) error, func(*Config) string) {
		return str(func(c *Config) *string { return &c.OpenDSRDomain })
	})
	add("DSAR_DOWNLOAD_MAX", "5", "how many times the subject can download them", false, func() (func(*Config, string) error, func(*Config) string) {
		return num(func(c *Config) *int { return &c.MaxDownloads })
	})
	return o
}()

// LoadConfig reads the configuration through getenv. A secret may instead
// be read from the file named by NAME_FILE (Docker and Kubernetes secrets).
// Every problem is reported, naming its variable.
func LoadConfig(getenv func(string) string) (*Config, error) {
	c := &Config{}
	var errs []error
	for _, o := range options {
		v := getenv(o.name)
		if o.secret {
			if f := getenv(o.name + "_FILE"); f != "" {
				if v != "" {
					errs = append(errs, fmt.Errorf("%s and %s_FILE are both set; set one", o.name, o.name))
					continue
				}
				b, err := os.ReadFile(f)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s_FILE: %v", o.name, err))
					continue
				}
				v = strings.TrimSpace(string(b))
			}
		}
		if v == "" {
			v = o.def
		}
		if err := o.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", o.name, err))
		}
	}
	if err := c.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n  %w", errors.Join(errs...))
	}
	return c, nil
}

func (c *Config) validate() error {
	var errs []error
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("DSAR_LOG_LEVEL: want debug, info, warn or error, got %q", c.LogLevel))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("DSAR_LOG_FORMAT: want text or json, got %q", c.LogFormat))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") && !strings.HasPrefix(c.DatabaseURL, "sqlite:") {
		errs = append(errs, errors.New("DSAR_DATABASE_URL: want postgres://… (or sqlite:PATH)"))
	}
	if c.BaseURL == "" {
		port := c.Addr[strings.LastIndex(c.Addr, ":")+1:]
		c.BaseURL = "http://localhost:" + port
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("DSAR_BASE_URL: want an http(s) URL, got %q", c.BaseURL))
	} else if c.MailFrom == "" {
		c.MailFrom = "dsar@" + u.Hostname()
	}
	if c.SecretKey != "" && len(c.SecretKey) < dsar.MinSecretLength {
		errs = append(errs, fmt.Errorf("DSAR_SECRET_KEY: want at least %d bytes", dsar.MinSecretLength))
	}
	if c.MetricsAddr != "" && c.MetricsToken == "" {
		errs = append(errs, errors.New("DSAR_METRICS_ADDR: set DSAR_METRICS_TOKEN too, so that the worker's metrics are not open to anyone"))
	}
	if c.OIDCIssuer != "" || c.OIDCClientID != "" || c.OIDCClientSecret != "" {
		u, err := url.Parse(c.OIDCIssuer)
		loopback := err == nil && (u.Hostname() == "localhost" || net.ParseIP(u.Hostname()).IsLoopback())
		switch {
		case c.OIDCIssuer == "" || c.OIDCClientID == "" || c.OIDCClientSecret == "":
			errs = append(errs, errors.New("DSAR_OIDC_ISSUER, DSAR_OIDC_CLIENT_ID and DSAR_OIDC_CLIENT_SECRET: set all three for single sign-on, or none"))
		case err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback)):
			errs = append(errs, fmt.Errorf("DSAR_OIDC_ISSUER: want an https URL, got %q", c.OIDCIssuer))
		}
	}
	errs = append(errs, c.validateStorage()...)
	if err := c.loadOpenDSR(u); err != nil {
		errs = append(errs, err)
	}
	if c.WorkerConcurrency < 1 {
		errs = append(errs, errors.New("DSAR_WORKER_CONCURRENCY: want at least 1"))
	}
	if c.MaxDownloads < 1 {
		errs = append(errs, errors.New("DSAR_DOWNLOAD_MAX: want at least 1"))
	}
	return errors.Join(errs...)
}

// loadOpenDSR reads the OpenDSR intake's certificate and key, when both
// are set, for its domain (the host of the base URL u unless set).
func (c *Config) loadOpenDSR(u *url.URL) error {
	switch {
	case c.OpenDSRCertificate == "" && c.OpenDSRKey == "":
		if c.OpenDSRDomain != "" {
			return errors.New("DSAR_OPENDSR_DOMAIN: set DSAR_OPENDSR_CERTIFICATE and DSAR_OPENDSR_KEY too")
		}
		return nil
	case c.OpenDSRCertificate == "" || c.OpenDSRKey == "":
		return errors.New("DSAR_OPENDSR_CERTIFICATE and DSAR_OPENDSR_KEY: set both for the OpenDSR intake, or neither")
	}
	domain := c.OpenDSRDomain
	if domain == "" && u != nil {
		domain = u.Hostname()
	}
	s, err := dsar.LoadOpenDSRSigner(c.OpenDSRCertificate, c.OpenDSRKey, domain)
	if err != nil {
		return fmt.Errorf("DSAR_OPENDSR_CERTIFICATE, DSAR_OPENDSR_KEY: %v (set DSAR_OPENDSR_DOMAIN to a name of the certificate)", err)
	}
	c.OpenDSR = s
	return nil
}

// validateStorage checks the storage and encryption settings. Its errors
// never repeat a key.
func (c *Config) validateStorage() []error {
	var errs []error
	switch c.Storage {
	case "dir":
		for _, o := range []struct{ name, v string }{{"DSAR_S3_ENDPOINT", c.S3Endpoint}, {"DSAR_S3_BUCKET", c.S3Bucket},
			{"DSAR_S3_REGION", c.S3Region}, {"DSAR_S3_ACCESS_KEY", c.S3AccessKey}, {"DSAR_S3_SECRET_KEY", c.S3SecretKey}} {
			if o.v != "" {
				errs = append(errs, fmt.Errorf("%s is set but DSAR_STORAGE is dir: set DSAR_STORAGE=s3 to keep case files in S3", o.name))
			}
		}
	case "s3":
		if _, err := s3Host(c.S3Endpoint, c.S3Insecure); err != nil {
			errs = append(errs, err)
		}
		if c.S3Bucket == "" {
			errs = append(errs, errors.New("DSAR_S3_BUCKET: required with DSAR_STORAGE=s3"))
		}
		if c.S3AccessKey == "" || c.S3SecretKey == "" {
			errs = append(errs, errors.New("DSAR_S3_ACCESS_KEY and DSAR_S3_SECRET_KEY: required with DSAR_STORAGE=s3"))
		}
	default:
		errs = append(errs, fmt.Errorf("DSAR_STORAGE: want dir or s3, got %q", c.Storage))
	}
	if c.EncryptionKey != "" {
		if _, err := blob.ParseKey(c.EncryptionKey); err != nil {
			errs = append(errs, fmt.Errorf("DSAR_ENCRYPTION_KEY: %v", err))
		}
	}
	if _, err := blob.ParseKeys(c.EncryptionOldKeys); err != nil {
		errs = append(errs, fmt.Errorf("DSAR_ENCRYPTION_OLD_KEYS: %v", err))
	} else if c.EncryptionOldKeys != "" && c.EncryptionKey == "" {
		errs = append(errs, errors.New("DSAR_ENCRYPTION_OLD_KEYS: set DSAR_ENCRYPTION_KEY too, the key that replaces them"))
	}
	return errs
}

// s3Host returns the host[:port] of DSAR_S3_ENDPOINT, which may be given
// as an https:// URL, or an http:// one with DSAR_S3_INSECURE=true.
func s3Host(endpoint string, insecure bool) (string, error) {
	if endpoint == "" {
		return "", errors.New("DSAR_S3_ENDPOINT: required with DSAR_STORAGE=s3")
	}
	host := endpoint
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		switch {
		case err != nil || u.Host == "" || (u.Path != "" && u.Path != "/") || u.User != nil || u.RawQuery != "":
			return "", fmt.Errorf("DSAR_S3_ENDPOINT: want host[:port] or https://host[:port], got %q", endpoint)
		case u.Scheme == "http" && !insecure:
			return "", errors.New("DSAR_S3_ENDPOINT: an http:// endpoint needs DSAR_S3_INSECURE=true (plain HTTP, for a local server)")
		case u.Scheme == "https" && insecure:
			return "", errors.New("DSAR_S3_ENDPOINT: an https:// endpoint with DSAR_S3_INSECURE=true: choose one")
		case u.Scheme != "http" && u.Scheme != "https":
			return "", fmt.Errorf("DSAR_S3_ENDPOINT: want host[:port] or https://host[:port], got %q", endpoint)
		}
		host = u.Host
	}
	if strings.ContainsAny(host, "/?#@ ") {
		return "", fmt.Errorf("DSAR_S3_ENDPOINT: want host[:port] or https://host[:port], got %q", endpoint)
	}
	return host, nil
}

// S3 is where DSAR_STORAGE=s3 keeps case files.
func (c *Config) S3() blob.S3Config {
	host, _ := s3Host(c.S3Endpoint, c.S3Insecure) // validated in LoadConfig
	return blob.S3Config{Endpoint: host, Bucket: c.S3Bucket, Region: c.S3Region, AccessKey: c.S3AccessKey,
		SecretKey: c.S3SecretKey, Insecure: c.S3Insecure}
}

// MessageIDDomain is the domain of the Message-IDs of outgoing mail.
func (c *Config) MessageIDDomain() string {
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Hostname() == "" {
		return "dsar.localhost"
	}
	return u.Hostname()
}

// Print writes the effective configuration, one NAME=value a line, with
// secrets shown only as set or unset, or with the password of a URL masked.
func (c *Config) Print(w io.Writer) {
	for _, o := range options {
		v := o.get(c)
		if o.secret {
			v = redactSecret(v)
		}
		fmt.Fprintf(w, "%s=%s\n", o.name, v)
	}
}

// redactSecret masks the password of a URL; a secret that is not a URL is
// shown only as set.
func redactSecret(v string) string {
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" {
		return "(set)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for k := range q {
		if strings.Contains(strings.ToLower(k), "pass") || strings.Contains(strings.ToLower(k), "secret") {
			q.Set(k, "xxxxx")
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Policy returns the time limits of the subject-facing flow.
func (c *Config) Policy() dsar.Policy {
	p := dsar.DefaultPolicy
	p.VerifyTTL, p.UnverifiedExpiry, p.StatusLinkTTL = c.VerifyTTL, c.UnverifiedExpiry, c.StatusLinkTTL
	p.DownloadTTL, p.MaxDownloads = c.DownloadTTL, c.MaxDownloads
	return p
}
