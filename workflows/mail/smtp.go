package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// The default ports of the two URL schemes.
const (
	defaultSubmissionPort = 587 // smtp://, STARTTLS (RFC 6409)
	defaultSMTPSPort      = 465 // smtps://, implicit TLS (RFC 8314)
	defaultTimeout        = 30 * time.Second
)

// SMTP sends messages through an SMTP server. It holds only its
// configuration and dials a fresh connection for every message, so it is
// safe for concurrent use and never sends on a connection that a previous
// failure left in an unknown state.
type SMTP struct {
	cfg smtpConfig
}

var _ Sender = (*SMTP)(nil)

// smtpConfig is the parsed DSAR_SMTP_URL.
type smtpConfig struct {
	host        string
	port        int
	implicitTLS bool             // smtps://
	tlsPolicy   gomail.TLSPolicy // STARTTLS policy for smtp://
	insecure    bool             // skip certificate verification
	user        string           // "" for no authentication
	password    string           // never printed
	auth        gomail.SMTPAuthType
	timeout     time.Duration
}

// NewSMTP returns a sender for the SMTP server described by rawURL, the value
// of DSAR_SMTP_URL:
//
//	smtp://[user:password@]host[:port][?options]    STARTTLS, port 587 by default
//	smtps://[user:password@]host[:port][?options]   implicit TLS, port 465 by default
//
// User and password must be URL-encoded (a "@" in a password as %40).
// Options:
//
//	tls=mandatory|opportunistic|none   smtp:// only; STARTTLS is mandatory by
//	                                   default, opportunistic uses it when
//	                                   offered, none never does
//	insecure_skip_verify=true          accept any server certificate (test
//	                                   servers with self-signed certificates)
//	auth=plain|login|cram-md5          the SASL mechanism; plain by default
//	                                   when a user is given
//	timeout=30s                        the time limit of each SMTP command
//
// Passwords are only ever sent over TLS (or to a server on the loopback
// interface): a URL that would send one in clear text with tls=none is
// refused. The error of an invalid URL names the problem but never contains
// the password; when the URL has credentials, it quotes no part of it.
func NewSMTP(rawURL string) (*SMTP, error) {
	cfg, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, err
	}
	return &SMTP{cfg: cfg}, nil
}

// String returns the configuration as a URL with the password replaced by
// "xxxxx", fit for logs and for printing the configuration.
func (s *SMTP) String() string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(s.cfg.host, strconv.Itoa(s.cfg.port))}
	if s.cfg.implicitTLS {
		u.Scheme = "smtps"
	}
	if s.cfg.user != "" {
		u.User = url.UserPassword(s.cfg.user, "xxxxx")
	}
	q := url.Values{}
	if !s.cfg.implicitTLS {
		q.Set("tls", tlsPolicyName(s.cfg.tlsPolicy))
	}
	if s.cfg.insecure {
		q.Set("insecure_skip_verify", "true")
	}
	if s.cfg.user != "" {
		q.Set("auth", strings.ToLower(string(s.cfg.auth)))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Send delivers m over a new connection: it dials, says EHLO, secures the
// connection (STARTTLS or implicit TLS), authenticates when configured, sends
// the message with its fixed Message-ID and Date, and quits. Cancelling ctx
// aborts the exchange at once. IsPermanent tells whether the returned error
// can pass on a retry; errors.Is(err, context.Canceled) and
// context.DeadlineExceeded tell a cancellation.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	msg, err := m.build()
	if err != nil {
		return fmt.Errorf("mail: smtp: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: smtp: send %s: %w", m.ID, err)
	}

	// The dialler ties the connection to ctx: go-mail uses the context only
	// while dialling, so a cancellation later on closes the connection under
	// the command in flight, which then fails at once.
	guard := &connGuard{}
	stop := context.AfterFunc(ctx, guard.cancel)
	defer stop()
	defer guard.close() // go-mail leaves the connection open when EHLO, STARTTLS or AUTH fail
	addr := net.JoinHostPort(s.cfg.host, strconv.Itoa(s.cfg.port))
	dial := func(dctx context.Context, network, _ string) (net.Conn, error) {
		// go-mail's own address is host:port without brackets, wrong
		// for IPv6 literals; ours is right.
		c, err := (&net.Dialer{}).DialContext(dctx, network, addr)
		if err != nil {
			return nil, err
		}
		if !guard.set(c) {
			return nil, ctx.Err()
		}
		if s.cfg.implicitTLS {
			tc := tls.Client(c, s.tlsConfig())
			if err := tc.HandshakeContext(dctx); err != nil {
				return nil, fmt.Errorf("TLS handshake: %w", err)
			}
			return tc, nil
		}
		return c, nil
	}

	client, err := gomail.NewClient(s.cfg.host, s.clientOptions(dial)...)
	if err != nil {
		return fmt.Errorf("mail: smtp: configure client: %w", err)
	}
	wrap := func(what string, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			err = errors.Join(cerr, err)
		}
		return fmt.Errorf("mail: smtp: %s %s via %s: %w", what, m.ID, addr, err)
	}

	sc, err := client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return wrap("connect to send", err)
	}
	if err := client.SendWithSMTPClient(sc, msg); err != nil {
		var se *gomail.SendError
		if errors.As(err, &se) {
			err = &sendError{se: se}
			if code := se.ErrorCode(); code >= 500 && code <= 599 {
				err = permanent(err)
			}
		}
		return wrap("send", err)
	}
	// The server has taken the message. A failing QUIT does not undo that,
	// and reporting it would only make the caller send a duplicate.
	_ = client.CloseWithSMTPClient(sc)
	return nil
}

// sendError is a refusal of the message by the server, told without the
// recipients' addresses and the server's free text (which often repeats an
// address): errors end up in logs, and logs hold no personal data. The full
// go-mail error stays in the chain for errors.As.
type sendError struct {
	se *gomail.SendError
}

func (e *sendError) Error() string {
	var b strings.Builder
	b.WriteString(e.se.Reason.String())
	b.WriteString(" failed")
	if code := e.se.ErrorCode(); code != 0 {
		fmt.Fprintf(&b, ": server replied %d", code)
		if esc := e.se.EnhancedStatusCode(); esc != "" {
			b.WriteString(" " + esc)
		}
	}
	return b.String()
}

func (e *sendError) Unwrap() error { return e.se }

// connGuard holds the connection of one Send so that a cancellation can
// close it from another goroutine, including one that comes while dialling.
type connGuard struct {
	mu       sync.Mutex
	conn     net.Conn
	canceled bool
}

// set records c; it closes c and returns false when the send was cancelled
// already.
func (g *connGuard) set(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.canceled {
		_ = c.Close()
		return false
	}
	g.conn = c
	return true
}

// cancel closes the connection and any that is still to come.
func (g *connGuard) cancel() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.canceled = true
	if g.conn != nil {
		_ = g.conn.Close()
	}
}

// close closes the connection if there is one; closing twice is harmless.
func (g *connGuard) close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conn != nil {
		_ = g.conn.Close()
	}
}

// clientOptions returns the go-mail options of one connection.
func (s *SMTP) clientOptions(dial gomail.DialContextFunc) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(s.cfg.port),
		gomail.WithTimeout(s.cfg.timeout),
		gomail.WithTLSConfig(s.tlsConfig()),
		gomail.WithDialContextFunc(dial),
	}
	if s.cfg.implicitTLS {
		// The dialler does the TLS handshake; WithSSL keeps go-mail from
		// attempting STARTTLS on top of it.
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(s.cfg.tlsPolicy))
	}
	if s.cfg.user != "" {
		opts = append(opts,
			gomail.WithSMTPAuth(s.cfg.auth),
			gomail.WithUsername(s.cfg.user),
			gomail.WithPassword(s.cfg.password),
		)
	}
	return opts
}

// tlsConfig returns the TLS configuration for the server.
func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         s.cfg.host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: s.cfg.insecure, //nolint:gosec // opt-in for test servers
	}
}

// errSMTPURL starts every URL error, so that it names the variable.
const errSMTPURL = "mail: invalid SMTP URL (DSAR_SMTP_URL)"

// parseSMTPURL parses and checks rawURL. None of its errors contain the
// password; when the URL has credentials, they quote no part of the URL
// (a malformed URL may not split where the user intended, and any piece of
// it might be a piece of the password).
func parseSMTPURL(rawURL string) (smtpConfig, error) {
	secret := strings.Contains(rawURL, "@")
	show := func(s string) string {
		if secret {
			return "(not shown, the URL has credentials)"
		}
		return strconv.Quote(s)
	}
	fail := func(format string, args ...any) (smtpConfig, error) {
		return smtpConfig{}, fmt.Errorf(errSMTPURL+": "+format, args...)
	}

	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return fail("empty")
	}
	if strings.Contains(rawURL, "#") {
		return fail("unexpected fragment (#...); is a password with # not URL-encoded?")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error repeats the whole URL, password included.
		var ue *url.Error
		if !secret && errors.As(err, &ue) {
			return fail("%v", ue.Err)
		}
		return fail("malformed URL (are user and password URL-encoded?)")
	}

	cfg := smtpConfig{tlsPolicy: gomail.TLSMandatory, timeout: defaultTimeout}
	switch u.Scheme {
	case "smtp":
		cfg.port = defaultSubmissionPort
	case "smtps":
		cfg.port = defaultSMTPSPort
		cfg.implicitTLS = true
	case "":
		return fail("no scheme; want smtp:// or smtps://")
	default:
		return fail("scheme %s not supported; want smtp:// or smtps://", show(u.Scheme))
	}
	if u.Opaque != "" {
		return fail("want %s://host, with two slashes", u.Scheme)
	}
	if u.Path != "" && u.Path != "/" {
		return fail("unexpected path %s", show(u.Path))
	}

	cfg.host = u.Hostname()
	if cfg.host == "" {
		return fail("no host")
	}
	if !validHost(cfg.host) {
		return fail("host %s is neither a host name nor an IP address", show(cfg.host))
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fail("port %s out of range 1-65535", show(p))
		}
		cfg.port = n
	}

	if u.User != nil {
		cfg.user = u.User.Username()
		cfg.password, _ = u.User.Password()
		if cfg.user == "" {
			return fail("password without a user name")
		}
		cfg.auth = gomail.SMTPAuthPlain
	}

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fail("malformed query")
	}
	for name, values := range q {
		if len(values) != 1 {
			return fail("option %s given %d times", show(name), len(values))
		}
		v := values[0]
		switch name {
		case "tls":
			if cfg.implicitTLS {
				return fail("option tls applies to smtp:// only; smtps:// always uses TLS")
			}
			switch v {
			case "mandatory":
				cfg.tlsPolicy = gomail.TLSMandatory
			case "opportunistic":
				cfg.tlsPolicy = gomail.TLSOpportunistic
			case "none":
				cfg.tlsPolicy = gomail.NoTLS
			default:
				return fail("option tls=%s; want mandatory, opportunistic or none", show(v))
			}
		case "insecure_skip_verify":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fail("option insecure_skip_verify=%s; want true or false", show(v))
			}
			cfg.insecure = b
		case "auth":
			switch strings.ToLower(v) {
			case "plain":
				cfg.auth = gomail.SMTPAuthPlain
			case "login":
				cfg.auth = gomail.SMTPAuthLogin
			case "cram-md5":
				cfg.auth = gomail.SMTPAuthCramMD5
			default:
				return fail("option auth=%s; want plain, login or cram-md5", show(v))
			}
			if u.User == nil {
				return fail("option auth needs a user and password in the URL")
			}
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fail("option timeout=%s; want a positive duration such as 30s", show(v))
			}
			cfg.timeout = d
		default:
			return fail("unknown option %s; known: tls, insecure_skip_verify, auth, timeout", show(name))
		}
	}

	if cfg.user != "" && cfg.tlsPolicy == gomail.NoTLS && cfg.auth != gomail.SMTPAuthCramMD5 && !isLoopback(cfg.host) {
		return fail("tls=none would send the password in clear text; use STARTTLS, smtps:// or auth=cram-md5")
	}
	return cfg, nil
}

// validHost reports whether host is an IP address or a DNS host name.
func validHost(host string) bool {
	if net.ParseIP(host) != nil {
		return true
	}
	if len(host) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(host, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
			if !ok {
				return false
			}
		}
	}
	return true
}

// isLoopback reports whether host names the local machine.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tlsPolicyName is the URL spelling of a STARTTLS policy.
func tlsPolicyName(p gomail.TLSPolicy) string {
	switch p {
	case gomail.TLSOpportunistic:
		return "opportunistic"
	case gomail.NoTLS:
		return "none"
	}
	return "mandatory"
}
