// Package sql is the connector of databases the controller runs
// (docs/connectors.md, "SQL connector"): it carries out a task in the
// system's PostgreSQL database, in one transaction, with the statements the
// data map gives for the action or else from its table mapping, and records
// how many rows it read or changed. An export's rows are streamed into the
// task's blob as they are read, one dsar.ExportRecord per row, of the
// table's category (or the connector's export_category for the data map's
// own statements). The same work runs as a dry run that is
// rolled back and reports what would change (Connector.DryRun).
package sql

import (
	"bytes"
	"context"
	gosql "database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
)

// Timeout bounds the whole of one task in a database: waiting for a
// connection, the statements and the commit.
const Timeout = 2 * time.Minute

// The bounds of each system's pool of connections.
const (
	maxOpen     = 4
	maxIdle     = 2
	maxIdleTime = 5 * time.Minute
	maxLifetime = 30 * time.Minute
)

// Connector is the SQL connector: a pool of connections per system. It is
// safe for concurrent use.
type Connector struct {
	keys *dsar.Keyring
	log  *slog.Logger

	mu    sync.Mutex
	pools map[string]*pool // by controller/system
}

type pool struct {
	dsn string
	db  *gosql.DB
}

var _ connector.Connector = (*Connector)(nil)

// New returns the SQL connector: keys derives the key of each system's
// hmac mask (MaskKey); log gets one line a task (task, system, action,
// outcome, rows; never the subject's data).
func New(keys *dsar.Keyring, log *slog.Logger) *Connector {
	return &Connector{keys: keys, log: log, pools: map[string]*pool{}}
}

// Close closes every pool.
func (c *Connector) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.pools {
		p.db.Close()
		delete(c.pools, k)
	}
}

// MaskKey returns the key of the hmac mask of a system: the keyring's
// token for the purpose "sql-mask" and the ID "<controller>/<system>", that
// is HMAC-SHA256 derived from DSAR_SECRET_KEY. It is the same for every
// task of the system, so one value always masks to the same hash there,
// and differs from system to system.
func MaskKey(keys *dsar.Keyring, controller, system string) []byte {
	b, _ := base64.RawURLEncoding.DecodeString(keys.Token("sql-mask", controller+"/"+system)) // Token is always valid base64
	return b
}

// db returns the pool of the system, opened anew when its DSN changed.
func (c *Connector) db(o *dsar.TaskOrder, cfg *dsar.SQLConnector) (*gosql.DB, *dsar.TaskOutcome) {
	dsn, err := cfg.DSN.Value()
	if err != nil {
		return nil, &dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: "the DSN (" + cfg.DSN.String() + ") cannot be read: " + err.Error()}
	}
	key := o.Controller.Key + "/" + o.Task.Target()
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.pools[key]; ok {
		if p.dsn == dsn {
			return p.db, nil
		}
		go p.db.Close() // the DSN was rotated; Close waits for the tasks still using it
		delete(c.pools, key)
	}
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message would repeat the DSN, its password blanked only at best.
		return nil, &dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "the DSN (" + cfg.DSN.String() +
			") is not a PostgreSQL connection string (postgres://user:password@host:5432/database?sslmode=verify-full)"}
	}
	db := stdlib.OpenDB(*cc)
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxIdleTime(maxIdleTime)
	db.SetConnMaxLifetime(maxLifetime)
	c.pools[key] = &pool{dsn: dsn, db: db}
	return db, nil
}

// Do carries out a step of a task: StepSend runs the task and commits it.
// A task runs at once, so there is nothing to poll, remind of or cancel.
func (c *Connector) Do(ctx context.Context, o *connector.Order) dsar.TaskOutcome {
	if o.Step != dsar.StepSend {
		return dsar.TaskOutcome{Kind: dsar.OutcomeReminded}
	}
	_, out := c.run(ctx, o.TaskOrder, o.Blobs, true)
	return out
}

// DryRun runs the task's work in a transaction that is rolled back, and
// returns what it would change. The outcome is what the task would have
// recorded (a failure's answer, say).
func (c *Connector) DryRun(ctx context.Context, o *dsar.TaskOrder) (*Report, dsar.TaskOutcome) {
	return c.run(ctx, o, nil, false)
}

// Report is what a task did, or would do, in a database: one line per
// statement, and the rows in all.
type Report struct {
	Action dsar.TaskAction
	Steps  []Step
	Rows   int64
}

// Step is one statement of a task: what it ran on (a table of the mapping,
// or the statement's place in the list), how, the rows it read or changed,
// and for an UPDATE how it set each column (never a value of the subject).
type Step struct {
	Target string // "table public.customers" or "statement 2"
	Verb   string // SELECT, DELETE, UPDATE, or the statement's command
	Rows   int64
	Set    []string // "email = hmac", "name = fixed:erased", "name = from the details"
}

// run carries out the order's task in one transaction, committed when
// commit is set (an export's rows then go to blobs) and rolled back
// otherwise.
func (c *Connector) run(ctx context.Context, o *dsar.TaskOrder, blobs dsar.Blobs, commit bool) (*Report, dsar.TaskOutcome) {
	start := time.Now()
	rep := &Report{Action: o.Task.Action}
	out := c.work(ctx, o, blobs, rep, commit)
	mode := "run"
	if !commit {
		mode = "dry run"
	}
	c.log.Info("sql task", "task", o.Task.ID, "system", o.Task.Target(), "action", string(o.Task.Action), "mode", mode,
		"outcome", string(out.Kind), "rows", rep.Rows, "ms", time.Since(start).Milliseconds())
	if out.Kind == dsar.OutcomeRetry || out.Kind == dsar.OutcomeFailed {
		c.log.Warn("sql task failed", "task", o.Task.ID, "system", o.Task.Target(), "outcome", string(out.Kind), "answer", out.Answer)
	}
	return rep, out
}

func (c *Connector) work(ctx context.Context, o *dsar.TaskOrder, blobs dsar.Blobs, rep *Report, commit bool) dsar.TaskOutcome {
	cfg := o.Connector.SQL
	if o.Connector.Kind != dsar.ConnectorSQL || cfg == nil {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "the system has no SQL connector settings"}
	}
	if cfg.Driver != "postgres" {
		return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: fmt.Sprintf("unknown driver %q (want postgres)", cfg.Driver)}
	}
	plan, failed := c.plan(o, cfg)
	if failed != nil {
		return *failed
	}
	if len(plan) == 0 {
		return dsar.TaskOutcome{Kind: dsar.OutcomeNoData, Answer: "no table matches an identity the subject gave"}
	}
	db, failed := c.db(o, cfg)
	if failed != nil {
		return *failed
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	var ex *connector.Export
	if commit && o.Task.Action == dsar.ActionExport {
		var err error
		if ex, err = connector.StartExport(ctx, blobs, o.Task.RequestID, o.Task.ID); err != nil {
			return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: err.Error()}
		}
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		if ex != nil {
			ex.Abort(err)
		}
		return c.failure(o, err, "connect")
	}
	defer conn.Close()
	var where string
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			where = "begin"
			return err
		}
		defer func() {
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer rcancel()
			_ = tx.Rollback(rctx) // nothing to roll back after a commit
		}()
		for _, st := range plan {
			rows, err := st.run(ctx, tx, ex)
			if err != nil {
				where = st.step.Target
				return err
			}
			s := st.step
			s.Rows = rows
			rep.Steps = append(rep.Steps, s)
			rep.Rows += rows
		}
		if commit {
			where = "commit"
			return tx.Commit(ctx)
		}
		return nil
	})
	if err != nil {
		rep.Rows = 0
		if ex != nil {
			ex.Abort(err)
		}
		return c.failure(o, err, where)
	}
	answer := c.summary(rep)
	if rep.Rows == 0 {
		if ex != nil {
			ex.Abort(nil)
		}
		return dsar.TaskOutcome{Kind: dsar.OutcomeNoData, Answer: answer}
	}
	if ex != nil {
		n, err := ex.Commit()
		if err != nil {
			return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: answer + "; the export could not be stored: " + err.Error()}
		}
		return dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: n, Answer: answer}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeDone, Count: int(rep.Rows), Answer: answer}
}

// summary says in short what the task did: the rows per table or statement.
func (c *Connector) summary(rep *Report) string {
	parts := make([]string, len(rep.Steps))
	for i, s := range rep.Steps {
		parts[i] = fmt.Sprintf("%s: %s %d", s.Target, s.Verb, s.Rows)
	}
	return strings.Join(parts, "; ")
}

// statement is one statement of a task's plan with its arguments.
type statement struct {
	step Step
	sql  string
	args []any
	// own: the statement is the data map's own, given the identities as
	// $1, $2 and $3 (runOwn).
	own bool
	// category is the data category of the rows an export reads.
	category string
}

// run runs the statement and returns the rows it read or changed; the rows
// an export reads go to ex when it is set.
func (st *statement) run(ctx context.Context, tx pgx.Tx, ex *connector.Export) (int64, error) {
	if st.own {
		return st.runOwn(ctx, tx, ex)
	}
	rows, err := tx.Query(ctx, st.sql, st.args...)
	if err != nil {
		return 0, err
	}
	var read int64
	for rows.Next() {
		read++
		if ex == nil || st.step.Verb != "SELECT" {
			continue
		}
		var record []byte // the row as the database's own JSON (to_jsonb)
		if err := rows.Scan(&record); err != nil {
			rows.Close()
			return 0, err
		}
		if err := ex.Write(st.category, record); err != nil {
			rows.Close()
			return 0, fmt.Errorf("store the export: %w", err)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return max(read, rows.CommandTag().RowsAffected()), nil
}

// textRow returns a row of text results as a JSON object by column name:
// NULL as null, booleans, numbers and json as such, every other value as
// its text.
func textRow(fds []pgconn.FieldDescription, vals [][]byte) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, fd := range fds {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(fd.Name) // a string always marshals
		b.Write(name)
		b.WriteByte(':')
		v := vals[i]
		switch fd.DataTypeOID {
		case pgtype.BoolOID:
			if v != nil {
				v = []byte(strconv.FormatBool(string(v) == "t"))
			}
		case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.Float4OID, pgtype.Float8OID, pgtype.NumericOID,
			pgtype.JSONOID, pgtype.JSONBOID:
			if v != nil && !json.Valid(v) { // NaN, Infinity
				v, _ = json.Marshal(string(v))
			}
		default:
			if v != nil {
				v, _ = json.Marshal(string(v)) // invalid UTF-8 becomes U+FFFD
			}
		}
		if v == nil {
			v = []byte("null")
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// paramRE finds the parameters a statement of the data map refers to.
var paramRE = regexp.MustCompile(`\$([1-3])(?:[^0-9]|$)`)

// runOwn runs a statement of the data map with the identities as text:
// the database infers the type of each parameter the statement uses from
// where it is used, and the ones it does not use are declared text.
func (st *statement) runOwn(ctx context.Context, tx pgx.Tx, ex *connector.Export) (int64, error) {
	types := []uint32{pgtype.TextOID, pgtype.TextOID, pgtype.TextOID}
	for _, m := range paramRE.FindAllStringSubmatch(st.sql, -1) {
		types[m[1][0]-'1'] = 0 // inferred
	}
	pc := tx.Conn().PgConn()
	sd, err := pc.Prepare(ctx, "", st.sql, types)
	if err != nil {
		return 0, err
	}
	params := make([][]byte, len(sd.ParamOIDs))
	for i := range params {
		if i < len(st.args) {
			params[i] = []byte(st.args[i].(string))
		}
	}
	rr := pc.ExecPrepared(ctx, "", params, nil, nil) // text results
	var read int64
	for rr.NextRow() {
		read++
		if ex == nil {
			continue
		}
		if err := ex.Write(st.category, textRow(rr.FieldDescriptions(), rr.Values())); err != nil {
			_, _ = rr.Close()
			return 0, fmt.Errorf("store the export: %w", err)
		}
	}
	tag, err := rr.Close()
	if err != nil {
		return 0, err
	}
	st.step.Verb = strings.ToUpper(strings.Fields(tag.String() + " ?")[0])
	return max(read, tag.RowsAffected()), nil
}

// plan returns the statements of the order's task: the data map's
// statements for the action, or else those of its table mapping.
func (c *Connector) plan(o *dsar.TaskOrder, cfg *dsar.SQLConnector) ([]*statement, *dsar.TaskOutcome) {
	action := o.Task.Action
	switch action {
	case dsar.ActionExport, dsar.ActionErase, dsar.ActionRectify, dsar.ActionRestrict:
	default:
		return nil, &dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: fmt.Sprintf(
			"the sql connector carries out export, erase, rectify and restrict, not %s: do it by hand and skip the task with the reason", action)}
	}
	subj := o.Request.Subject
	ids := identities{email: strings.TrimSpace(subj.Email), customerID: strings.TrimSpace(subj.CustomerID), phone: strings.TrimSpace(subj.Phone)}
	if list := cfg.Statements[action]; len(list) > 0 {
		out := make([]*statement, len(list))
		for i, s := range list {
			out[i] = &statement{step: Step{Target: fmt.Sprintf("statement %d", i+1)}, sql: s,
				args: []any{ids.email, ids.customerID, ids.phone}, own: true, category: cfg.ExportCategory}
		}
		return out, nil
	}
	if len(cfg.Tables) == 0 {
		return nil, &dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: fmt.Sprintf("the data map has no %s statements and no tables", action)}
	}
	var fix map[string]string
	if action == dsar.ActionRectify {
		var failed *dsar.TaskOutcome
		if fix, failed = rectification(o.Request.Details, cfg.Tables); failed != nil {
			return nil, failed
		}
	}
	if action == dsar.ActionRestrict && !slices.ContainsFunc(cfg.Tables, func(t dsar.SQLTable) bool { return t.Restrict != "" }) {
		return nil, &dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "no table of the data map has a restrict column and there are no restrict statements"}
	}
	if action == dsar.ActionErase {
		for _, t := range cfg.Tables {
			if t.Mask != nil && len(t.Mask) == 0 {
				return nil, &dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "table " + t.Name +
					": mask lists no column: list the columns to mask, or leave mask out to delete the rows"}
			}
		}
	}
	key := MaskKey(c.keys, o.Controller.Key, o.Task.Target())
	var out []*statement
	for i := range cfg.Tables {
		if st := tableStatement(&cfg.Tables[i], action, ids, fix, key); st != nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// identities are the subject's identities, "" where unknown.
type identities struct{ email, customerID, phone string }

// tableStatement returns the statement of the action on a mapped table,
// nil when the table has nothing to do with it (no identity of the subject
// in its match, no column to rectify, no restrict column).
func tableStatement(t *dsar.SQLTable, action dsar.TaskAction, ids identities, fix map[string]string, key []byte) *statement {
	st := &statement{step: Step{Target: "table " + t.Name}}
	arg := func(v any) string {
		st.args = append(st.args, v)
		return fmt.Sprintf("$%d", len(st.args))
	}
	var set []string // "col" = expr
	switch action {
	case dsar.ActionExport:
		st.step.Verb = "SELECT"
	case dsar.ActionErase:
		if t.Mask == nil {
			st.step.Verb = "DELETE"
			break
		}
		st.step.Verb = "UPDATE"
		var ipad, opad string
		for _, col := range sortedKeys(t.Mask) {
			mask, q := t.Mask[col], ident(col)
			var expr string
			switch {
			case mask == "null":
				expr = "NULL"
			case mask == "hmac":
				if ipad == "" {
					i, o := hmacPads(key)
					ipad, opad = arg(i), arg(o)
				}
				// HMAC-SHA256 (RFC 2104) of the old value's text, in hex,
				// computed by the database for each row: NULL stays NULL.
				expr = fmt.Sprintf("encode(sha256(%s || sha256(%s || convert_to(%s::text, 'UTF8'))), 'hex')", opad, ipad, q)
			case mask == "random":
				expr = "replace(gen_random_uuid()::text, '-', '')"
			case strings.HasPrefix(mask, "fixed:"):
				expr = arg(strings.TrimPrefix(mask, "fixed:"))
			default:
				continue // the data map refuses other masks
			}
			set = append(set, q+" = "+expr)
			st.step.Set = append(st.step.Set, col+" = "+mask)
		}
	case dsar.ActionRectify:
		st.step.Verb = "UPDATE"
		for _, col := range t.Rectify {
			if v, ok := fix[strings.ToLower(col)]; ok {
				set = append(set, ident(col)+" = "+arg(v))
				st.step.Set = append(st.step.Set, col+" = from the details")
			}
		}
		if len(set) == 0 {
			return nil
		}
	case dsar.ActionRestrict:
		if t.Restrict == "" {
			return nil
		}
		st.step.Verb = "UPDATE"
		set = append(set, ident(t.Restrict)+" = true")
		st.step.Set = append(st.step.Set, t.Restrict+" = true")
	}
	var conds []string
	for _, m := range []struct{ identity, value, format string }{
		{"email", ids.email, "lower(%s) = lower(%s)"},
		{dsar.IdentifierCustomerID, ids.customerID, "%s = %s"},
		{dsar.IdentifierPhone, ids.phone, "%s = %s"},
	} {
		if col, ok := t.Match[m.identity]; ok && m.value != "" {
			conds = append(conds, fmt.Sprintf(m.format, ident(col), arg(m.value)))
		}
	}
	if len(conds) == 0 {
		return nil
	}
	table := tableIdent(t.Name)
	where := strings.Join(conds, " AND ")
	switch st.step.Verb {
	case "SELECT":
		cols := "*"
		if len(t.Export) > 0 {
			q := make([]string, len(t.Export))
			for i, c := range t.Export {
				q[i] = ident(c)
			}
			cols = strings.Join(q, ", ")
		}
		// Each row as the database's own JSON of it, by column name.
		st.sql = fmt.Sprintf("SELECT to_jsonb(r) FROM (SELECT %s FROM %s WHERE %s) r", cols, table, where)
		st.category = t.Category
	case "DELETE":
		st.sql = fmt.Sprintf("DELETE FROM %s WHERE %s", table, where)
	default:
		st.sql = fmt.Sprintf("UPDATE %s SET %s WHERE %s", table, strings.Join(set, ", "), where)
	}
	return st
}

// hmacPads returns the key XOR the inner and the outer pad of HMAC-SHA256
// (RFC 2104), for the database to compute the HMAC with sha256().
func hmacPads(key []byte) (ipad, opad []byte) {
	const block = 64
	k := make([]byte, block)
	copy(k, key) // a derived key has 32 bytes, less than a block
	ipad, opad = make([]byte, block), make([]byte, block)
	for i := range k {
		ipad[i], opad[i] = k[i]^0x36, k[i]^0x5c
	}
	return ipad, opad
}

// rectification reads the request's details as "column: value" lines and
// returns the values by lower-case column. A column no table may rectify
// fails the task; so do details without such a line. Other lines (free
// text without a colon) are left alone.
func rectification(details string, tables []dsar.SQLTable) (map[string]string, *dsar.TaskOutcome) {
	var allowed []string
	for _, t := range tables {
		for _, c := range t.Rectify {
			if !slices.Contains(allowed, c) {
				allowed = append(allowed, c)
			}
		}
	}
	list := strings.Join(allowed, ", ")
	if len(allowed) == 0 {
		list = "none"
	}
	fix := map[string]string{}
	for line := range strings.Lines(details) {
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			continue
		}
		col := strings.ToLower(name)
		if !columnName(col) || !slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, col) }) {
			return nil, &dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: fmt.Sprintf(
				"the details ask to change %q, which the data map does not allow to be rectified here (allowed: %s)", shorten(name), list)}
		}
		if _, dup := fix[col]; dup {
			return nil, &dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: fmt.Sprintf("the details give %q twice", shorten(name))}
		}
		fix[col] = strings.TrimSpace(value)
	}
	if len(fix) == 0 {
		return nil, &dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: "the details have no \"column: value\" line to rectify (allowed: " + list + ")"}
	}
	return fix, nil
}

// columnName reports whether s can be a column name of the data map.
func columnName(s string) bool {
	if s == "" || len(s) > 63 || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// shorten bounds what an answer repeats of the details: a column name
// the subject wrote, never its value.
func shorten(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

func ident(col string) string { return pgx.Identifier{col}.Sanitize() }

// tableIdent quotes a table name, schema-qualified or not.
func tableIdent(name string) string { return pgx.Identifier(strings.Split(name, ".")).Sanitize() }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// failure maps an error of the database to an outcome: a lost or refused
// connection, a serialization failure or a deadlock is tried again; an
// error of a statement (a missing column, a violated constraint) fails the
// task. The answer names the SQLSTATE and the objects concerned, and
// repeats the database's message only for the classes whose messages name
// objects, not values; the subject's identities are blanked in any case.
func (c *Connector) failure(o *dsar.TaskOrder, err error, where string) dsar.TaskOutcome {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		answer := "no answer from the database"
		switch {
		case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			answer = "timed out after " + Timeout.String()
		case errors.Is(err, context.Canceled):
			answer = "the worker stopped"
		case err != nil:
			var ce *pgconn.ConnectError
			if errors.As(err, &ce) {
				answer = "cannot connect: " + blank(o, ce.Unwrap().Error())
			} else {
				answer += ": " + blank(o, err.Error())
			}
		}
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: where + ": " + answer}
	}
	class := pe.Code[:2]
	retry := class == "08" || class == "40" || class == "53" || class == "57" || class == "28" || pe.Code == "55P03"
	var b strings.Builder
	fmt.Fprintf(&b, "%s: SQLSTATE %s", where, pe.Code)
	switch class {
	case "42", "0A", "25", "28", "3D", "3F", "40", "53", "55", "57", "08":
		fmt.Fprintf(&b, ": %s", blank(o, pe.Message))
	case "22":
		b.WriteString(": a value does not fit its column's type or size")
	case "23":
		b.WriteString(": a constraint of the table refuses the change")
	}
	for _, f := range []struct{ name, v string }{{"table", pe.TableName}, {"column", pe.ColumnName}, {"constraint", pe.ConstraintName}} {
		if f.v != "" {
			fmt.Fprintf(&b, " (%s %s)", f.name, f.v)
		}
	}
	answer := b.String()
	if retry {
		return dsar.TaskOutcome{Kind: dsar.OutcomeRetry, Answer: answer}
	}
	return dsar.TaskOutcome{Kind: dsar.OutcomeFailed, Answer: answer}
}

// blank replaces the subject's identities and the values of a
// rectification in a text of the database.
func blank(o *dsar.TaskOrder, s string) string {
	subj := o.Request.Subject
	vals := []string{subj.Email, subj.CustomerID, subj.Phone, subj.Name}
	for line := range strings.Lines(o.Request.Details) {
		if _, v, ok := strings.Cut(line, ":"); ok {
			vals = append(vals, v)
		}
	}
	return connector.Blank(s, vals...)
}
