// Command dsar runs the data-subject rights service.
//
//	dsar                  API and workers in one process on the embedded default
//	dsar serve            the HTTP API (any number of processes)
//	dsar worker           the background workers (any number of processes)
//	dsar migrate          apply the database migrations
//	dsar config           print the effective configuration, secrets masked
//	dsar apikey create    create an API key (printed once, as the last line)
//	dsar apikey list      list API keys
//	dsar apikey revoke ID revoke an API key
//	dsar audit verify     check the hash chain of the audit trail
//	dsar retention        remove the personal data of cases past their records retention (--dry-run: list it)
//	dsar user …           officers' accounts: create, list, update, disable, enable, reset-password
//	dsar seed             fill a database with cases for load tests
//	dsar sample-system    a connected system that takes the HTTP connector's tasks
//	dsar connector dry-run show what a task of a sql system would change, changing nothing
//	dsar keys rotate      re-encrypt the case files under the current encryption key
//
// Configuration comes from DSAR_* environment variables; see README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"os/user"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/templates"
)

// gcPercent is the garbage collector's target when GOGC is not set. The
// service's live heap is a few megabytes, so at Go's default of 100 a page
// of the officers' queue (50 cases, ~160 kB of garbage) set off a collection
// every few requests; at 400 the server's CPU per queue request fell by a
// third (cmd/loadgen/queue_bench.sh) for a few tens of megabytes more.
// GOGC and GOMEMLIMIT set in the environment win (docs/operations.md).
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Getenv: os.Getenv, Stdout: os.Stdout, Stderr: os.Stderr, Clock: dsar.SystemClock{}}
	os.Exit(m.Run(ctx, os.Args[1:]))
}

// Main is the testable program: Run with arguments and an environment.
type Main struct {
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	Clock  dsar.Clock
	// started, when set, receives the App once it runs (tests).
	started func(*App)
}

const usage = `usage: dsar [command]

commands:
  (none)        run the API and the workers in one process (embedded default)
  serve         run the HTTP API
  worker        run the background workers
  migrate       apply the database migrations
  config        print the effective configuration (secrets masked)
  apikey        create, list or revoke API keys (dsar apikey -h)
  audit verify  check that no audit event was changed or deleted
  retention     remove the personal data of the closed cases whose records
                retention has run out (--dry-run: list them, removing nothing)
  user          officers' accounts: create, list, update, disable, enable, reset-password
  sample-system a connected system on 127.0.0.1:8091 that takes the HTTP connector's
                tasks (docs/connectors.md); needs DSAR_SAMPLE_SYSTEM_SECRET
  connector dry-run
                show what a task of a sql system would change, in a transaction
                that is rolled back (dsar connector dry-run -h)
  keys rotate [--dry-run]
                re-encrypt every case file not under DSAR_ENCRYPTION_KEY, reading
                it with DSAR_ENCRYPTION_OLD_KEYS (docs/storage.md)

Configuration comes from DSAR_* environment variables (see README.md).
`

// Run runs one command and returns the exit code.
func (m *Main) Run(ctx context.Context, args []string) int {
	cmd := ""
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fmt.Fprint(m.Stdout, usage)
		return 0
	}
	cfg, err := LoadConfig(m.Getenv)
	if err != nil {
		fmt.Fprintln(m.Stderr, err)
		return 2
	}
	log := newLogger(cfg, m.Stderr)
	switch cmd {
	case "", "run":
		err = m.runApp(ctx, cfg, log, openOptions{embeddedRedis: true, needRedis: true, needMail: true, autoMigrate: true}, (*App).All, true)
	case "serve":
		err = m.runApp(ctx, cfg, log, openOptions{needRedis: true}, (*App).Serve, false)
	case "worker":
		err = m.runApp(ctx, cfg, log, openOptions{needRedis: true, needMail: true, ownMetrics: true}, (*App).Work, false)
	case "migrate":
		err = m.migrate(ctx, cfg, log)
	case "config":
		cfg.Print(m.Stdout)
	case "apikey":
		err = m.apikey(ctx, cfg, log, args)
	case "audit":
		err = m.audit(ctx, cfg, log, args)
	case "retention":
		err = m.retention(ctx, cfg, log, args)
	case "seed":
		err = m.seed(ctx, cfg, log, args)
	case "user":
		err = m.user(ctx, cfg, log, args)
	case "sample-system":
		err = m.sampleSystem(ctx, log, args)
	case "connector":
		err = m.connector(ctx, cfg, log, args)
	case "keys":
		err = m.keys(ctx, cfg, log, args)
	default:
		fmt.Fprintf(m.Stderr, "dsar: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(m.Stderr, "dsar:", ue.msg)
			return 2
		}
		fmt.Fprintln(m.Stderr, "dsar:", describe(err))
		return 1
	}
	return 0
}

// describe returns an application error as English sentences (its message
// and those of its fields, from the message catalog), or the error text.
func describe(err error) string {
	var de *dsar.Error
	if !errors.As(err, &de) {
		return err.Error()
	}
	msg := templates.T(dsar.LanguageEN, de.Message, de.Params)
	for _, f := range de.Fields {
		msg += " " + fieldSentence(f)
	}
	return msg
}

// fieldSentence says in English what is wrong with the command-line flag a
// field error names.
func fieldSentence(f dsar.FieldError) string {
	return "--" + f.Field + ": " + templates.T(dsar.LanguageEN, f.Message, f.Params)
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func newLogger(cfg *Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel)) // validated in LoadConfig
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func (m *Main) runApp(ctx context.Context, cfg *Config, log *slog.Logger, o openOptions, run func(*App, context.Context) error, banner bool) error {
	a, err := Open(ctx, cfg, log, m.Clock, o)
	if err != nil {
		return err
	}
	defer a.Close()
	if banner {
		a.onReady = func() { m.printBanner(cfg) }
	}
	if m.started != nil {
		m.started(a)
	}
	return run(a, ctx)
}

// printBanner tells a new user where the service is, where officers sign
// in, how to make the first admin account, and how to get a key.
func (m *Main) printBanner(cfg *Config) {
	mode := "PostgreSQL"
	if cfg.DatabaseURL == "" {
		mode = "the embedded database in " + cfg.DataDir
	}
	env := ""
	if v := m.Getenv("DSAR_DATA_DIR"); v != "" {
		env = "DSAR_DATA_DIR=" + v + " "
	}
	mailbox := "SMTP"
	if cfg.SMTPURL == "" {
		mailbox = "the local mailbox " + cfg.DataDir + "/mailbox"
	}
	fmt.Fprintf(m.Stdout, `
dsar is running at %s (on %s; mail goes to %s)
  Request form for data subjects: %[4]s/
  Officers sign in at: %[4]s/signin
  Create the first admin account in another terminal (it prints the password):
    %[5]sgo run ./cmd/dsar user create --email you@example.com --name "Your Name" --role admin
  API document: %[4]s/openapi.yaml
  Create an API key:
    %[5]sgo run ./cmd/dsar apikey create --name me --role admin
  Stop with Ctrl-C.

`, cfg.BaseURL, mode, mailbox, cfg.BaseURL, env)
}

func (m *Main) migrate(ctx context.Context, cfg *Config, log *slog.Logger) error {
	url := cfg.DatabaseURL
	if url == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return err
		}
		url = "sqlite:" + cfg.DataDir + "/dsar.db"
	}
	db, err := store.Open(ctx, url, m.Clock, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	if err != nil {
		return err
	}
	current, _, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	log.Info("migrations applied", "applied", len(applied), "version", current)
	fmt.Fprintf(m.Stdout, "schema at version %d (%d migrations applied now)\n", current, len(applied))
	return nil
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func (m *Main) apikey(ctx context.Context, cfg *Config, log *slog.Logger, args []string) error {
	if len(args) == 0 {
		return usageError{"usage: dsar apikey create|list|revoke"}
	}
	a, err := Open(ctx, cfg, log, m.Clock, openOptions{autoMigrate: true})
	if err != nil {
		return err
	}
	defer a.Close()
	admin := store.NewAdmin(a.db, store.NewAPIKeys(a.db))
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("apikey create", flag.ContinueOnError)
		fs.SetOutput(m.Stderr)
		name := fs.String("name", "", "what the key is for (required)")
		role := fs.String("role", "", "admin, officer, auditor or system (required)")
		var ctrls stringList
		fs.Var(&ctrls, "controller", "controller key the key may act for (repeatable; required unless admin)")
		scopeList := fs.String("scopes", "", "comma-separated scopes the key is limited to ("+scopeNames()+"); none: every call its role allows")
		if err := fs.Parse(args[1:]); err != nil {
			return usageError{err.Error()}
		}
		k, secret, err := admin.CreateAPIKey(ctx, cliActor(), *name, dsar.Role(*role), ctrls, dsar.SplitScopes(*scopeList)...)
		if err != nil {
			return fieldErrors(err)
		}
		fmt.Fprintf(m.Stdout, "created API key %s (%s, role %s, controllers %s, scopes %s)\n", k.ID, k.Name, k.Role, orAll(k.Controllers), scopesOf(k))
		fmt.Fprintln(m.Stdout, "the secret is shown only now; send it as 'Authorization: Bearer <secret>':")
		fmt.Fprintln(m.Stdout, secret)
	case "list":
		list, err := admin.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(m.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tCONTROLLERS\tSCOPES\tCREATED\tLAST USED\tREVOKED")
		for _, k := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Role, orAll(k.Controllers), scopesOf(k),
				k.CreatedAt.Format(time.RFC3339), fmtTime(k.LastUsedAt), fmtTime(k.RevokedAt))
		}
		return tw.Flush()
	case "revoke":
		if len(args) != 2 {
			return usageError{"usage: dsar apikey revoke ID"}
		}
		if err := admin.RevokeAPIKey(ctx, cliActor(), args[1]); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "revoked API key %s\n", args[1])
	default:
		return usageError{fmt.Sprintf("unknown apikey command %q: want create, list or revoke", args[0])}
	}
	return nil
}

// scopeNames lists the scopes for the help text.
func scopeNames() string {
	out := make([]string, len(dsar.Scopes))
	for i, sc := range dsar.Scopes {
		out[i] = string(sc)
	}
	return strings.Join(out, ", ")
}

// scopesOf shows a key's scopes, or that its role alone decides.
func scopesOf(k *dsar.APIKey) string {
	if k.Scopes == nil {
		return "(all of its role)"
	}
	out := make([]string, len(k.Scopes))
	for i, sc := range k.Scopes {
		out[i] = string(sc)
	}
	return strings.Join(out, ",")
}

// fieldErrors turns a validation error into one line per bad field.
func fieldErrors(err error) error {
	var de *dsar.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		return err
	}
	sentences := make([]string, len(de.Fields))
	for i, f := range de.Fields {
		sentences[i] = fieldSentence(f)
	}
	return usageError{strings.Join(sentences, " ")}
}

func orAll(cs []string) string {
	if len(cs) == 0 {
		return "all"
	}
	return strings.Join(cs, ",")
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// cliActor is the person at the command line, for the admin trail: the
// operating system's user name.
func cliActor() dsar.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return dsar.Actor{ID: "cli:" + name, Role: dsar.RoleAdmin}
}
