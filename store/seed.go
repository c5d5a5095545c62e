package store

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// SeedActor is the created_by of seeded cases and the actor of their audit
// events, so that they are easy to tell from real ones.
const SeedActor = "seed"

// SeedOptions says what Seed writes.
type SeedOptions struct {
	Cases int   // how many cases
	Seed  int64 // the random stream: the same seed gives the same cases on the same day
	// Force seeds a database that holds cases already (the new ones are
	// added; their references continue after the existing count).
	Force bool
	// Progress, when set, is called now and then with the cases written.
	Progress func(done int)
}

// seedSpan is how far back the seeded cases were received.
const seedSpan = 365 * 24 * time.Hour

// Seed fills the database with realistic cases for load tests and demos: a
// year of requests to every configured controller, received at a steady
// rate up to today, most of them closed and the recent ones (and a few
// stragglers) open, with their deadlines computed as for real ones, plus
// each case's first audit event. About 14% are open. The rows depend only
// on the seed, the existing case count and the clock's date (the year ends
// at today's midnight UTC). It refuses a database that holds cases unless
// Force. On PostgreSQL the cases go in with COPY in one transaction; on
// SQLite with batched inserts in one transaction.
func (db *DB) Seed(ctx context.Context, o SeedOptions) error {
	if o.Cases <= 0 {
		return dsar.Errorf(dsar.EINVALID, "seed: the number of cases must be positive")
	}
	if db.Controllers == nil || len(db.Controllers.All()) == 0 {
		return dsar.Errorf(dsar.EINVALID, "seed: no controllers configured")
	}
	var existing int64
	if err := db.gorm.WithContext(ctx).Model(&requestRow{}).Count(&existing).Error; err != nil {
		return mapErr(err)
	}
	if existing > 0 && !o.Force {
		return dsar.Errorf(dsar.ECONFLICT, "seed: the database holds %d cases already; seed an empty one, or force", existing)
	}
	g := newSeedGen(db.Controllers.All(), o.Seed, existing, o.Cases, db.now())
	var err error
	if db.Dialect == Postgres {
		err = db.seedPostgres(ctx, g, o.Progress)
	} else {
		err = db.seedSQLite(ctx, g, o.Progress)
	}
	if err != nil {
		return mapErr(err)
	}
	// Fresh statistics, so that the planner knows the new distribution.
	return db.gorm.WithContext(ctx).Exec("ANALYZE requests").Error
}

// seedEventsSQL writes the first audit event of every seeded case that has
// none, in the order the cases were received. %s is the JSON object function.
const seedEventsSQL = `INSERT INTO request_events (request_id, at, actor, kind, from_status, to_status, reason, data)
SELECT id, received_at, created_by, 'created', '', 'received', '',
	%s('channel', channel, 'due_date', extension_notice_by, 'regulation', regulation)
FROM requests r
WHERE created_by = '` + SeedActor + `' AND NOT EXISTS (SELECT 1 FROM request_events e WHERE e.request_id = r.id)
ORDER BY received_at, id`

// seedColumns are the columns COPY writes; the others keep their defaults.
var seedColumns = []string{
	"id", "reference", "type", "status", "controller", "regulation", "language", "channel",
	"subject_email", "subject_name", "subject_phone", "subject_customer_id", "details",
	"received_at", "due_date", "deadline", "extension_notice_by", "acknowledge_by", "extended", "extension_reason",
	"closed_at", "verified_at", "verified_by", "verification_method", "created_by", "created_at", "updated_at",
}

func (db *DB) seedPostgres(ctx context.Context, g *seedGen, progress func(int)) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("seed: the postgres connection is a %T, not pgx", dc)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx) //nolint:errcheck // after Commit, a no-op
		var genErr error
		src := pgx.CopyFromFunc(func() ([]any, error) {
			r, ok, err := g.next()
			if err != nil || !ok {
				genErr = err
				return nil, err
			}
			if progress != nil && g.i%100000 == 0 {
				progress(g.i)
			}
			return []any{
				r.ID, r.Reference, r.Type, r.Status, r.Controller, r.Regulation, r.Language, r.Channel,
				r.SubjectEmail, r.SubjectName, r.SubjectPhone, r.SubjectCustomerID, r.Details,
				r.ReceivedAt, r.DueDate, r.Deadline, r.ExtensionNoticeBy, r.AcknowledgeBy, r.Extended, r.ExtensionReason,
				r.ClosedAt, r.VerifiedAt, r.VerifiedBy, r.VerificationMethod, r.CreatedBy, r.CreatedAt, r.UpdatedAt,
			}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"requests"}, seedColumns, src); err != nil {
			if genErr != nil {
				return genErr
			}
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf(seedEventsSQL, "jsonb_build_object")); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		if progress != nil {
			progress(g.i)
		}
		_, err = sc.Conn().Exec(ctx, "ANALYZE request_events")
		return err
	})
}

func (db *DB) seedSQLite(ctx context.Context, g *seedGen, progress func(int)) error {
	const batch = 500 // rows a statement: 500 × 35 columns stays under SQLite's 32766 variables
	return db.tx(ctx, func(tx *gorm.DB) error {
		rows := make([]requestRow, 0, batch)
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			err := tx.Create(&rows).Error
			rows = rows[:0]
			if progress != nil {
				progress(g.i)
			}
			return err
		}
		for {
			r, ok, err := g.next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			rows = append(rows, *r)
			if len(rows) == batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		return tx.Exec(fmt.Sprintf(seedEventsSQL, "json_object")).Error
	})
}

// weighted picks one of the values with the given weights.
type weighted[T any] struct {
	vals  []T
	cum   []int
	total int
}

func newWeighted[T any](pairs ...any) *weighted[T] {
	w := &weighted[T]{}
	for i := 0; i < len(pairs); i += 2 {
		w.vals = append(w.vals, pairs[i].(T))
		w.total += pairs[i+1].(int)
		w.cum = append(w.cum, w.total)
	}
	return w
}

func (w *weighted[T]) pick(r *rand.Rand) T {
	x := r.IntN(w.total)
	for i, c := range w.cum {
		if x < c {
			return w.vals[i]
		}
	}
	return w.vals[len(w.vals)-1]
}

var (
	seedTypes = newWeighted[dsar.RequestType](
		dsar.TypeAccess, 35, dsar.TypeErasure, 30, dsar.TypeRectification, 8, dsar.TypeObjection, 8,
		dsar.TypeWithdrawConsent, 7, dsar.TypePortability, 6, dsar.TypeRestriction, 4, dsar.TypeAutomatedDecision, 2)
	seedChannels = newWeighted[dsar.Channel](
		dsar.ChannelWeb, 60, dsar.ChannelEmail, 25, dsar.ChannelAPI, 10, dsar.ChannelLetter, 3, dsar.ChannelPhone, 2)
	seedClosed = newWeighted[dsar.Status](
		dsar.StatusCompleted, 65, dsar.StatusExpiredUnverified, 14, dsar.StatusRefused, 10,
		dsar.StatusWithdrawn, 7, dsar.StatusForwarded, 4)
	seedOpenNew = newWeighted[dsar.Status](
		dsar.StatusReceived, 40, dsar.StatusAwaitingVerification, 50, dsar.StatusInProgress, 10)
	seedOpen = newWeighted[dsar.Status](
		dsar.StatusReceived, 5, dsar.StatusAwaitingVerification, 20, dsar.StatusInProgress, 55, dsar.StatusAwaitingSubject, 20)
	// The six shipped controllers by size; others get weight 10.
	seedControllerWeight = map[string]int{"nte": 30, "intility": 20, "keto-diets": 15, "max-nutrition": 15, "digiref": 10, "proviso": 10}

	seedFirst = []string{"Ola", "Kari", "Emma", "Noah", "Nora", "Jakob", "Sofie", "Lukas", "Ingrid", "Filip",
		"Maja", "Oskar", "Ella", "Henrik", "Sara", "Jonas", "Ida", "Mats", "Thea", "Aksel",
		"Ieva", "Lukas", "Gabija", "Matas", "Olivia", "Liam", "Ava", "Ethan", "Mia", "Lucas"}
	seedLast = []string{"Nordmann", "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen",
		"Kristiansen", "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Eriksen", "Bakken", "Lie", "Dahl",
		"Kazlauskas", "Jankauskas", "Petrauskas", "Smith", "Johnson", "Garcia", "Brown", "Miller"}
	seedDomains = []string{"example.com", "example.no", "example.org", "example.net"}
	seedDetails = []string{
		"",
		"Please send me a copy of all personal data you hold about me.",
		"I want my account and everything connected to it deleted.",
		"My address is wrong in your records; please correct it.",
		"I no longer consent to marketing e-mails.",
		"Which companies have you shared my data with?",
		"Jeg ber om innsyn i alle personopplysninger dere har om meg.",
		"Slett kontoen min og alle opplysninger om meg.",
	}
)

// seedGen draws the seeded cases in the order they were received.
type seedGen struct {
	rng      *rand.Rand
	ctrls    []*dsar.Controller
	ctrlPick *weighted[int]
	n, i     int
	base     int64 // existing cases: the references continue from there
	refMul   uint64
	refAdd   uint64
	end      time.Time
}

func newSeedGen(ctrls []*dsar.Controller, seed, existing int64, n int, now time.Time) *seedGen {
	pairs := make([]any, 0, 2*len(ctrls))
	for i, c := range ctrls {
		w, ok := seedControllerWeight[c.Key]
		if !ok {
			w = 10
		}
		pairs = append(pairs, i, w)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(existing)^0x9e3779b97f4a7c15))
	return &seedGen{
		rng: rng, ctrls: ctrls, ctrlPick: newWeighted[int](pairs...), n: n, base: existing,
		// x ↦ x·mul + add mod 2^40 is a bijection for odd mul: distinct
		// references without a collision check.
		refMul: (uint64(seed)*0x5851f42d4c957f2d | 1) & (1<<40 - 1), refAdd: uint64(seed) * 0x14057b7ef767814f,
		end: now.UTC().Truncate(24 * time.Hour),
	}
}

// next returns the next case, or false after the last.
func (g *seedGen) next() (*requestRow, bool, error) {
	if g.i >= g.n {
		return nil, false, nil
	}
	r := g.rng
	// Received at a steady rate over the year: the i-th of n in its own
	// slot, so that the rows come in time order like real ones.
	start := g.end.Add(-seedSpan)
	slot := float64(seedSpan) / float64(g.n)
	received := start.Add(time.Duration((float64(g.i) + r.Float64()) * slot)).Truncate(time.Microsecond)
	ageDays := g.end.Sub(received).Hours() / 24

	ctrl := g.ctrls[g.ctrlPick.pick(r)]
	reg := ctrl.DefaultRegulation
	if len(ctrl.Regulations) > 1 && r.IntN(10) == 0 {
		for _, x := range ctrl.Regulations {
			if x != reg {
				reg = x
				break
			}
		}
	}
	lang := ctrl.Languages[0]
	if len(ctrl.Languages) > 1 && r.IntN(5) == 0 {
		lang = ctrl.Languages[1]
	}

	// Open with a probability that falls with age: the recent cases are
	// being worked on, a few old ones were forgotten.
	var pOpen float64
	switch {
	case ageDays < 7:
		pOpen = 0.97
	case ageDays < 30:
		pOpen = 0.80
	case ageDays < 60:
		pOpen = 0.40
	case ageDays < 120:
		pOpen = 0.10
	default:
		pOpen = 0.035
	}
	var status dsar.Status
	switch {
	case r.Float64() >= pOpen:
		status = seedClosed.pick(r)
	case ageDays < 3:
		status = seedOpenNew.pick(r)
	default:
		status = seedOpen.pick(r)
	}
	extended := false
	if status.Open() && ageDays > 25 {
		extended = r.IntN(100) < 45
	} else if !status.Open() && status != dsar.StatusExpiredUnverified {
		extended = r.IntN(100) < 5
	}
	dl, err := dsar.ComputeDeadlines(dsar.DeadlineInput{
		Regulation: reg, Jurisdiction: ctrl.Jurisdiction, Location: ctrl.Location, ReceivedAt: received, Extended: extended,
	})
	if err != nil {
		return nil, false, err
	}

	first, last := seedFirst[r.IntN(len(seedFirst))], seedLast[r.IntN(len(seedLast))]
	idx := uint64(g.base) + uint64(g.i)
	row := &requestRow{
		ID: g.uuid(received), Reference: g.reference(idx), Type: string(seedTypes.pick(r)), Status: string(status),
		Controller: ctrl.Key, Regulation: string(reg), Language: string(lang), Channel: string(seedChannels.pick(r)),
		SubjectEmail: fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), idx, seedDomains[r.IntN(len(seedDomains))]),
		SubjectName:  first + " " + last,
		Details:      seedDetails[r.IntN(len(seedDetails))],
		ReceivedAt:   received, DueDate: dl.Due.String(), Deadline: dl.At.UTC(),
		ExtensionNoticeBy: dl.ExtensionNoticeBy.String(), AcknowledgeBy: dl.AcknowledgeBy.String(), Extended: extended,
		Kept: "[]", CreatedBy: SeedActor, CreatedAt: received, UpdatedAt: received,
	}
	for _, id := range ctrl.Identifiers {
		switch {
		case id == dsar.IdentifierCustomerID && r.IntN(2) == 0:
			row.SubjectCustomerID = fmt.Sprintf("%08d", r.IntN(100000000))
		case id == dsar.IdentifierPhone && r.IntN(3) == 0:
			row.SubjectPhone = fmt.Sprintf("+47 %08d", 40000000+r.IntN(60000000))
		}
	}
	if extended {
		row.ExtensionReason = "The request is complex: the data is spread over several systems."
	}
	// Moments after receipt, never after the end of the year.
	after := func(maxDays float64) *time.Time {
		t := received.Add(time.Duration(r.Float64() * maxDays * float64(24*time.Hour)))
		if t.After(g.end) {
			t = g.end
		}
		t = t.Truncate(time.Microsecond)
		return &t
	}
	switch status {
	case dsar.StatusReceived, dsar.StatusAwaitingVerification, dsar.StatusExpiredUnverified, dsar.StatusWithdrawn:
	default:
		row.VerifiedAt, row.VerifiedBy, row.VerificationMethod = after(3), SeedActor, "email_link"
	}
	if !status.Open() {
		days := 30.0
		if extended {
			days = 85
		}
		row.ClosedAt = after(days)
		if row.VerifiedAt != nil && row.ClosedAt.Before(*row.VerifiedAt) {
			row.ClosedAt = row.VerifiedAt
		}
		row.UpdatedAt = *row.ClosedAt
	} else if row.VerifiedAt != nil {
		row.UpdatedAt = *row.VerifiedAt
	}
	g.i++
	return row, true, nil
}

// uuid returns a UUIDv7 of the instant with random bits from the stream.
func (g *seedGen) uuid(at time.Time) string {
	var u uuid.UUID
	ms := uint64(at.UnixMilli())
	binary.BigEndian.PutUint64(u[0:8], ms<<16|g.rng.Uint64()&0xffff)
	binary.BigEndian.PutUint64(u[8:16], g.rng.Uint64())
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // RFC 4122 variant
	return u.String()
}

// reference returns the idx-th reference of the seed: 40 bits, 8 characters.
func (g *seedGen) reference(idx uint64) string {
	x := (idx*g.refMul + g.refAdd) & (1<<40 - 1)
	out := make([]byte, 0, 9)
	for i := range 8 {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, referenceAlphabet[(x>>(35-5*i))&31])
	}
	return string(out)
}
