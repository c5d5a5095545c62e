// Package store keeps the cases, their audit trail, the outbox and the API
// keys in a SQL database with gorm: PostgreSQL in production, an embedded
// SQLite file in the default mode. It converts driver errors into domain
// error codes and implements the root package's service interfaces.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/migrations"
)

// Dialect is the SQL engine behind a DB.
type Dialect string

// The dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// DB is an open database with the domain's clock and controllers.
type DB struct {
	gorm        *gorm.DB
	sql         *sql.DB
	Dialect     Dialect
	Clock       dsar.Clock
	Controllers *dsar.Controllers
	// Keyring derives and hashes the tokens and codes given to subjects;
	// Policy holds the time limits of verification and status links.
	Keyring *dsar.Keyring
	Policy  dsar.Policy
}

// Open connects to the database named by url: a postgres:// or
// postgresql:// URL, or sqlite:PATH (or file:PATH) for the embedded default.
// It does not migrate; call Migrate or CheckSchema.
func Open(ctx context.Context, url string, clock dsar.Clock, controllers *dsar.Controllers) (*DB, error) {
	var (
		dial    gorm.Dialector
		dialect Dialect
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		dial, dialect = postgres.Open(url), Postgres
	case strings.HasPrefix(url, "sqlite:"), strings.HasPrefix(url, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "file:")
		dsn := path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		if strings.Contains(path, "?") {
			return nil, dsar.Errorf(dsar.EINVALID, "the sqlite database path may not carry parameters")
		}
		dial, dialect = sqlite.Open(dsn), SQLite
	default:
		return nil, dsar.Errorf(dsar.EINVALID, "unsupported database URL: want postgres://… or sqlite:PATH")
	}
	g, err := gorm.Open(dial, &gorm.Config{
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	// Every statement's error passes through markUnreachable, so that a
	// database that cannot be reached is EUNAVAILABLE wherever it is met.
	cb := g.Callback()
	for _, p := range []interface {
		Register(name string, fn func(*gorm.DB)) error
	}{cb.Create(), cb.Query(), cb.Update(), cb.Delete(), cb.Row(), cb.Raw()} {
		if err := p.Register("dsar:unreachable", markUnreachable); err != nil {
			return nil, err
		}
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	if dialect == SQLite {
		// One writer at a time is what SQLite can do; one connection keeps
		// transactions from waiting on each other's locks.
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetMaxIdleConns(20)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, dsar.Errorf(dsar.EUNAVAILABLE, "connect to the %s database: %v", dialect, redactErr(err))
	}
	return &DB{gorm: g, sql: sqlDB, Dialect: dialect, Clock: clock, Controllers: controllers}, nil
}

// Close closes the connections.
func (db *DB) Close() error { return db.sql.Close() }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.sql.PingContext(ctx); err != nil {
		return dsar.Errorf(dsar.EUNAVAILABLE, "database: %v", redactErr(err))
	}
	return nil
}

func (db *DB) provider() (*goose.Provider, error) {
	var (
		d    goose.Dialect
		fsys fs.FS
	)
	switch db.Dialect {
	case Postgres:
		d, fsys = goose.DialectPostgres, migrations.Postgres()
	default:
		d, fsys = goose.DialectSQLite3, migrations.SQLite()
	}
	return goose.NewProvider(d, db.sql, fsys)
}

// Migrate applies every pending migration and returns the versions applied.
func (db *DB) Migrate(ctx context.Context) ([]int64, error) {
	p, err := db.provider()
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := make([]int64, 0, len(results))
	for _, r := range results {
		applied = append(applied, r.Source.Version)
	}
	return applied, nil
}

// SchemaVersion returns the version the database is at and the version this
// binary expects.
func (db *DB) SchemaVersion(ctx context.Context) (current, want int64, err error) {
	p, err := db.provider()
	if err != nil {
		return 0, 0, err
	}
	return p.GetVersions(ctx)
}

// CheckSchema returns an ESTALE error when the database is not at the schema
// version this binary expects, so that serve and worker refuse to start on a
// database nobody migrated.
func (db *DB) CheckSchema(ctx context.Context) error {
	current, want, err := db.SchemaVersion(ctx)
	if err != nil {
		return dsar.Errorf(dsar.EUNAVAILABLE, "read the schema version: %v", redactErr(err))
	}
	if current < want {
		return dsar.Errorf(dsar.ESTALE, "the database schema is at version %d, this binary needs %d: run `dsar migrate` first", current, want)
	}
	if current > want {
		return dsar.Errorf(dsar.ESTALE, "the database schema is at version %d, newer than this binary's %d: upgrade dsar", current, want)
	}
	return nil
}

// tx runs fn in one transaction. A database that cannot be reached to
// begin or commit it is EUNAVAILABLE, like one that fails a statement.
func (db *DB) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	err := db.gorm.WithContext(ctx).Transaction(fn)
	if err != nil && unreachable(err) {
		return unavailable(err)
	}
	return err
}

// forUpdate is q locking the rows it reads until the transaction ends
// (Postgres; an SQLite write transaction holds the whole database).
func (db *DB) forUpdate(q *gorm.DB) *gorm.DB {
	if db.Dialect == Postgres {
		return q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return q
}

// now returns the clock's time in UTC to the microsecond, the form every
// timestamp is stored in (Postgres keeps microseconds).
func (db *DB) now() time.Time { return db.Clock.Now().UTC().Truncate(time.Microsecond) }

// redactErr returns the error's text without anything that looks like a
// connection string's password.
func redactErr(err error) string {
	msg := err.Error()
	for _, f := range strings.Fields(msg) {
		if i := strings.Index(f, "://"); i >= 0 {
			if at := strings.LastIndex(f, "@"); at > i {
				msg = strings.ReplaceAll(msg, f[i+3:at], "***")
			}
		}
	}
	return msg
}

// mapErr converts driver errors into domain errors: a database that
// cannot be reached is unavailable, a unique violation is a conflict, a
// missing row is not found, anything else stays internal.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var de *dsar.Error
	if errors.As(err, &de) {
		return err
	}
	if unreachable(err) {
		return unavailable(err)
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &dsar.Error{Code: dsar.ECONFLICT, Message: "error.conflict"}
	}
	if strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return &dsar.Error{Code: dsar.ECONFLICT, Message: "error.conflict"}
	}
	return err
}

// markUnreachable is the statement callback that makes the error of a
// statement the database could not take EUNAVAILABLE.
func markUnreachable(g *gorm.DB) {
	if g.Error != nil && unreachable(g.Error) {
		g.Error = unavailable(g.Error)
	}
}

// unavailable returns the EUNAVAILABLE error of a database that cannot be
// reached, keeping the driver's words (without secrets) for the logs.
func unavailable(err error) error {
	var de *dsar.Error
	if errors.As(err, &de) {
		return err
	}
	return fmt.Errorf("%w: %s", &dsar.Error{Code: dsar.EUNAVAILABLE, Message: "error.unavailable"}, redactErr(err))
}

// unreachable reports whether err says that the database cannot be reached
// or cannot take work just now, rather than that it refused the statement:
// a connection refused, reset, closed or timed out; a server shutting down,
// starting or out of connections; an SQLite file locked, failing or closed.
// These pass: trying again later is the answer.
func unreachable(err error) bool {
	var (
		pgErr  *pgconn.PgError
		conn   *pgconn.ConnectError
		netErr net.Error
		lite   interface{ Code() int } // the SQLite driver's errors
	)
	switch {
	case errors.As(err, &pgErr):
		// Class 08: connection exception; 57P01-57P03: the server is
		// shutting down or starting; 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || slices.Contains([]string{"57P01", "57P02", "57P03", "53300"}, pgErr.Code)
	case errors.As(err, &conn), errors.As(err, &netErr):
		return true
	case errors.As(err, &lite):
		switch lite.Code() & 0xff {
		case sqliteBusy, sqliteLocked, sqliteIOErr, sqliteFull, sqliteCantOpen:
			return true
		}
		return false
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		strings.Contains(err.Error(), "sql: database is closed")
}

// The SQLite result codes (the low byte of the extended codes) of a
// database that cannot take work just now.
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteIOErr    = 10
	sqliteFull     = 13
	sqliteCantOpen = 14
)
