package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/dsar-project/dsar"
)

// Sign-in limits.
const (
	// MaxFailedLogins is how many wrong passwords lock an account.
	MaxFailedLogins = 5
	// LockoutTime is how long a locked account stays locked.
	LockoutTime = 15 * time.Minute
	// SessionIdle and SessionMax bound a session: it ends after this long
	// unused, and after this long in any case.
	SessionIdle = 2 * time.Hour
	SessionMax  = 12 * time.Hour
)

// argon2id parameters (OWASP's minimum: 19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

type userRow struct {
	ID                string `gorm:"primaryKey"`
	Email             string
	Name              string
	PasswordHash      string
	Role              string
	Controllers       string
	FailedLogins      int
	LockedUntil       *time.Time
	DisabledAt        *time.Time
	PasswordChangedAt time.Time
	CreatedAt         time.Time
}

func (userRow) TableName() string { return "users" }

func (r *userRow) toDomain() *dsar.User {
	u := &dsar.User{ID: r.ID, Email: r.Email, Name: r.Name, Role: dsar.Role(r.Role), LockedUntil: r.LockedUntil, DisabledAt: r.DisabledAt,
		PasswordChangedAt: r.PasswordChangedAt.UTC(), CreatedAt: r.CreatedAt.UTC()}
	if r.Controllers != "" {
		u.Controllers = strings.Split(r.Controllers, ",")
	}
	return u
}

type sessionRow struct {
	TokenHash  string `gorm:"primaryKey"`
	UserID     string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func (sessionRow) TableName() string { return "sessions" }

// Users implements dsar.UserService on the database.
type Users struct{ db *DB }

var _ dsar.UserService = (*Users)(nil)

// NewUsers returns the user service of db.
func NewUsers(db *DB) *Users { return &Users{db: db} }

// hashPassword returns the PHC string of an argon2id hash of password.
func hashPassword(password string) string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding.EncodeToString
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads, b64(salt), b64(key))
}

// checkPassword compares password with a PHC argon2id hash in constant time.
func checkPassword(password, phc string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

func validPassword(field, pw string) *dsar.FieldError {
	if utf8.RuneCountInString(pw) < dsar.MinPasswordLength {
		return &dsar.FieldError{Field: field, Message: "field.password_short", Params: map[string]any{"min": dsar.MinPasswordLength}}
	}
	if len(pw) > 1024 {
		return &dsar.FieldError{Field: field, Message: "field.too_long", Params: map[string]any{"max": 1024}}
	}
	return nil
}

// Create adds a user. Users are admins, officers or auditors; all but
// admins are limited to named controllers.
func (s *Users) Create(ctx context.Context, email, password string, role dsar.Role, controllers []string) (*dsar.User, error) {
	var fields []dsar.FieldError
	email = strings.ToLower(strings.TrimSpace(email))
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
		fields = append(fields, dsar.FieldError{Field: "email", Message: "field.email"})
	}
	fields = append(fields, s.validRole(role, controllers)...)
	if fe := validPassword("password", password); fe != nil {
		fields = append(fields, *fe)
	}
	if len(fields) > 0 {
		return nil, dsar.Invalid(fields...)
	}
	now := s.db.now()
	row := &userRow{ID: newID(), Email: email, PasswordHash: hashPassword(password), Role: string(role),
		Controllers: joinControllers(controllers), PasswordChangedAt: now, CreatedAt: now}
	if err := s.db.gorm.WithContext(ctx).Create(row).Error; err != nil {
		if err = mapErr(err); dsar.ErrorCode(err) == dsar.ECONFLICT {
			return nil, &dsar.Error{Code: dsar.ECONFLICT, Message: "error.user_exists", Params: map[string]any{"email": email}}
		}
		return nil, err
	}
	return row.toDomain(), nil
}

// SetName gives the user with the e-mail address a name (empty for none).
func (s *Users) SetName(ctx context.Context, email, name string) (*dsar.User, error) {
	if err := dsar.ValidateUserName(name); err != nil {
		return nil, err
	}
	var row userRow
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&row).Error; err != nil {
			return dsar.Invalid(dsar.FieldError{Field: "email", Message: "error.not_found"})
		}
		row.Name = strings.TrimSpace(name)
		return tx.Model(&userRow{}).Where("id = ?", row.ID).Update("name", row.Name).Error
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return row.toDomain(), nil
}

// validRole checks a role and the controllers it is limited to.
func (s *Users) validRole(role dsar.Role, controllers []string) []dsar.FieldError {
	var fields []dsar.FieldError
	if role != dsar.RoleAdmin && role != dsar.RoleOfficer && role != dsar.RoleAuditor {
		fields = append(fields, dsar.FieldError{Field: "role", Message: "field.enum", Params: map[string]any{"allowed": []string{"admin", "officer", "auditor"}}})
	}
	for _, c := range controllers {
		if _, ok := s.db.Controllers.Get(c); !ok {
			fields = append(fields, dsar.FieldError{Field: "controller", Message: "error.unknown_controller", Params: map[string]any{"controller": c}})
		}
	}
	if role != dsar.RoleAdmin && len(controllers) == 0 {
		fields = append(fields, dsar.FieldError{Field: "controller", Message: "field.required"})
	}
	return fields
}

// joinControllers is the stored form of a user's controllers: sorted, once
// each, comma-separated.
func joinControllers(controllers []string) string {
	c := slices.Clone(controllers)
	slices.Sort(c)
	return strings.Join(slices.Compact(c), ",")
}

// List returns every user, by e-mail address.
func (s *Users) List(ctx context.Context) ([]*dsar.User, error) {
	var rows []userRow
	if err := s.db.gorm.WithContext(ctx).Order("email").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]*dsar.User, len(rows))
	for i := range rows {
		out[i] = rows[i].toDomain()
	}
	return out, nil
}

// administer changes the user with the e-mail address in one transaction
// and ends every session of theirs: whatever an admin changes about an
// account takes effect at once. It returns the user before and after.
func (s *Users) administer(ctx context.Context, email string, change func(row *userRow, now time.Time) map[string]any) (before, after *dsar.User, err error) {
	err = s.db.tx(ctx, func(tx *gorm.DB) error {
		var row userRow
		if err := tx.Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&row).Error; err != nil {
			return dsar.Invalid(dsar.FieldError{Field: "email", Message: "error.not_found"})
		}
		before = row.toDomain()
		if err := tx.Model(&userRow{}).Where("id = ?", row.ID).Updates(change(&row, s.db.now())).Error; err != nil {
			return err
		}
		var now userRow // a fresh row: a NULL read leaves a field as it was
		if err := tx.Where("id = ?", row.ID).Take(&now).Error; err != nil {
			return err
		}
		after = now.toDomain()
		return tx.Where("user_id = ?", row.ID).Delete(&sessionRow{}).Error
	})
	return before, after, mapErr(err)
}

// byEmail returns the account of the e-mail address, or the same invalid
// field as the changes of administer.
func (s *Users) byEmail(ctx context.Context, email string) (*dsar.User, error) {
	var row userRow
	err := s.db.gorm.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, dsar.Invalid(dsar.FieldError{Field: "email", Message: "error.not_found"})
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return row.toDomain(), nil
}

// SetDisabled disables an account (an officer who left: no sign-in, no
// reminders, no new cases; the trail keeps their name) or enables it again.
func (s *Users) SetDisabled(ctx context.Context, email string, disabled bool) (*dsar.User, error) {
	_, u, err := s.administer(ctx, email, func(row *userRow, now time.Time) map[string]any {
		if !disabled {
			return map[string]any{"disabled_at": nil}
		}
		if row.DisabledAt != nil {
			now = *row.DisabledAt
		}
		return map[string]any{"disabled_at": now}
	})
	return u, err
}

// Update gives a user another role and other controllers.
func (s *Users) Update(ctx context.Context, email string, role dsar.Role, controllers []string) (before, after *dsar.User, err error) {
	if fields := s.validRole(role, controllers); len(fields) > 0 {
		return nil, nil, dsar.Invalid(fields...)
	}
	return s.administer(ctx, email, func(*userRow, time.Time) map[string]any {
		return map[string]any{"role": string(role), "controllers": joinControllers(controllers)}
	})
}

// ResetPassword sets a password an admin chose or generated for a user who
// lost theirs, and unlocks the account.
func (s *Users) ResetPassword(ctx context.Context, email, password string) (*dsar.User, error) {
	if fe := validPassword("password", password); fe != nil {
		return nil, dsar.Invalid(*fe)
	}
	_, u, err := s.administer(ctx, email, func(_ *userRow, now time.Time) map[string]any {
		return map[string]any{"password_hash": hashPassword(password), "password_changed_at": now, "failed_logins": 0, "locked_until": nil}
	})
	return u, err
}

var errBadSignIn = &dsar.Error{Code: dsar.EUNAUTHORIZED, Message: "error.signin"}

// SignIn checks the password and opens a session. The answer to a wrong
// e-mail and a wrong password is the same; five wrong passwords lock the
// account for LockoutTime.
func (s *Users) SignIn(ctx context.Context, email, password string) (*dsar.User, string, error) {
	now := s.db.now()
	var row userRow
	err := s.db.gorm.WithContext(ctx).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Take(&row).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, "", mapErr(err)
	}
	if err != nil || row.DisabledAt != nil {
		checkPassword(password, hashPassword("timing")) // the same work as for a known user
		return nil, "", errBadSignIn
	}
	if row.LockedUntil != nil && now.Before(*row.LockedUntil) {
		return nil, "", &dsar.Error{Code: dsar.ERATELIMIT, Message: "error.signin_locked",
			Params: map[string]any{"minutes": int(row.LockedUntil.Sub(now).Minutes()) + 1}}
	}
	if !checkPassword(password, row.PasswordHash) {
		update := map[string]any{"failed_logins": gorm.Expr("failed_logins + 1")}
		if row.FailedLogins+1 >= MaxFailedLogins {
			update = map[string]any{"failed_logins": 0, "locked_until": now.Add(LockoutTime)}
		}
		if err := s.db.gorm.WithContext(ctx).Model(&userRow{}).Where("id = ?", row.ID).Updates(update).Error; err != nil {
			return nil, "", mapErr(err)
		}
		return nil, "", errBadSignIn
	}
	var token string
	err = s.db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&userRow{}).Where("id = ?", row.ID).Updates(map[string]any{"failed_logins": 0, "locked_until": nil}).Error; err != nil {
			return err
		}
		token, err = s.openSession(tx, row.ID)
		return err
	})
	if err != nil {
		return nil, "", mapErr(err)
	}
	return row.toDomain(), token, nil
}

// SignInVerified opens a session for the account of an e-mail address that
// a single sign-on provider verified; an unknown or disabled account is
// refused like a wrong password.
func (s *Users) SignInVerified(ctx context.Context, email string) (*dsar.User, string, error) {
	db := s.db.gorm.WithContext(ctx)
	var row userRow
	if err := db.Where("email = ? AND disabled_at IS NULL", strings.ToLower(strings.TrimSpace(email))).Take(&row).Error; err != nil {
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, "", mapErr(err)
		}
		return nil, "", errBadSignIn
	}
	token, err := s.openSession(db, row.ID)
	if err != nil {
		return nil, "", mapErr(err)
	}
	return row.toDomain(), token, nil
}

// openSession stores a new session of the user and returns its token
// (256 random bits; only its hash is kept).
func (s *Users) openSession(tx *gorm.DB, userID string) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token, now := base64.RawURLEncoding.EncodeToString(b), s.db.now()
	return token, tx.Create(&sessionRow{TokenHash: dsar.HashSecret(token), UserID: userID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMax)}).Error
}

// Session returns the user of a live session and records its use (at most
// once a minute).
func (s *Users) Session(ctx context.Context, token string) (*dsar.User, error) {
	now := s.db.now()
	db := s.db.gorm.WithContext(ctx)
	// No session is EUNAUTHORIZED; a database that cannot say is not "no
	// session", and signs nobody out.
	noSession := func(err error) error {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return &dsar.Error{Code: dsar.EUNAUTHORIZED, Message: "error.unauthorized"}
		}
		return mapErr(err)
	}
	var sess sessionRow
	if err := db.Where("token_hash = ?", dsar.HashSecret(token)).Take(&sess).Error; err != nil {
		return nil, noSession(err)
	}
	if now.After(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > SessionIdle {
		db.Where("token_hash = ?", sess.TokenHash).Delete(&sessionRow{})
		return nil, &dsar.Error{Code: dsar.EUNAUTHORIZED, Message: "error.session_expired"}
	}
	var row userRow
	if err := db.Where("id = ? AND disabled_at IS NULL", sess.UserID).Take(&row).Error; err != nil {
		return nil, noSession(err)
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		db.Model(&sessionRow{}).Where("token_hash = ?", sess.TokenHash).Update("last_seen_at", now)
	}
	return row.toDomain(), nil
}

// SignOut ends a session.
func (s *Users) SignOut(ctx context.Context, token string) error {
	return mapErr(s.db.gorm.WithContext(ctx).Where("token_hash = ?", dsar.HashSecret(token)).Delete(&sessionRow{}).Error)
}

// ChangePassword sets a new password after checking the old one, and ends
// every other session of the user.
func (s *Users) ChangePassword(ctx context.Context, userID, old, new, keepToken string) error {
	var row userRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", userID).Take(&row).Error; err != nil {
		return mapErr(err)
	}
	if !checkPassword(old, row.PasswordHash) {
		return dsar.Invalid(dsar.FieldError{Field: "old", Message: "error.password_wrong"})
	}
	if fe := validPassword("new", new); fe != nil {
		return dsar.Invalid(*fe)
	}
	now := s.db.now()
	return mapErr(s.db.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Model(&userRow{}).Where("id = ?", userID).Updates(map[string]any{"password_hash": hashPassword(new), "password_changed_at": now}).Error; err != nil {
			return err
		}
		return tx.Where("user_id = ? AND token_hash <> ?", userID, dsar.HashSecret(keepToken)).Delete(&sessionRow{}).Error
	}))
}

var _ dsar.OfficerDirectory = (*Users)(nil)

// ReminderRecipients implements dsar.OfficerDirectory.
func (s *Users) ReminderRecipients(ctx context.Context, controller, assignee string, escalate bool) ([]string, error) {
	var rows []userRow
	if err := s.db.gorm.WithContext(ctx).Where("disabled_at IS NULL").Order("email").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	// An assignee whose account was disabled has left: the case's
	// reminders go to every officer of the controller instead.
	if !slices.ContainsFunc(rows, func(u userRow) bool { return u.ID == assignee }) {
		assignee = ""
	}
	var out []string
	for _, u := range rows {
		officer := u.Role == string(dsar.RoleOfficer) && slices.Contains(strings.Split(u.Controllers, ","), controller)
		switch {
		case assignee != "" && u.ID == assignee,
			assignee == "" && officer,
			escalate && u.Role == string(dsar.RoleAdmin):
			out = append(out, u.Email)
		}
	}
	return slices.Compact(out), nil
}

// AdminEmails implements dsar.OfficerDirectory.
func (s *Users) AdminEmails(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.gorm.WithContext(ctx).Model(&userRow{}).Where("disabled_at IS NULL AND role = ?", dsar.RoleAdmin).
		Order("email").Pluck("email", &out).Error
	return out, mapErr(err)
}

// User implements dsar.OfficerDirectory.
func (s *Users) User(ctx context.Context, id string) (*dsar.User, error) {
	var row userRow
	if err := s.db.gorm.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return nil, mapErr(err)
	}
	return row.toDomain(), nil
}

// Workers implements dsar.UserService.
func (s *Users) Workers(ctx context.Context, controllers []string) ([]*dsar.User, error) {
	var rows []userRow
	err := s.db.gorm.WithContext(ctx).Where("role IN ? AND disabled_at IS NULL", []string{string(dsar.RoleAdmin), string(dsar.RoleOfficer)}).Order("email").Find(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	var out []*dsar.User
	for i := range rows {
		u := rows[i].toDomain()
		if u.Role == dsar.RoleAdmin || len(controllers) == 0 || slices.ContainsFunc(controllers, func(c string) bool { return slices.Contains(u.Controllers, c) }) {
			out = append(out, u)
		}
	}
	return out, nil
}

// userZone is where a user's day is counted: the zone of their first
// controller (of the first configured one for admins).
func (s *Users) userZone(u *userRow) *time.Location {
	keys := strings.Split(u.Controllers, ",")
	if c, ok := s.db.Controllers.Get(keys[0]); ok && c.Location != nil {
		return c.Location
	}
	if all := s.db.Controllers.All(); len(all) > 0 && all[0].Location != nil {
		return all[0].Location
	}
	return time.UTC
}

// PlanDigests implements dsar.OfficerDirectory: one outbox row a user a
// day, its ID made of the date and the user, so that planning it again is a
// no-op.
func (s *Users) PlanDigests(ctx context.Context, now time.Time) (int, error) {
	var users []userRow
	if err := s.db.gorm.WithContext(ctx).Where("role IN ? AND disabled_at IS NULL", []string{string(dsar.RoleOfficer), string(dsar.RoleAdmin)}).Find(&users).Error; err != nil {
		return 0, mapErr(err)
	}
	planned := 0
	for i := range users {
		u := &users[i]
		local := now.In(s.userZone(u))
		if local.Hour() < dsar.DigestHour {
			continue
		}
		day := dsar.DateOf(local)
		payload, _ := json.Marshal(dsar.DigestPayload{UserID: u.ID, Date: day})
		row := newOutboxRow(&dsar.OutboxItem{ID: "digest-" + day.String() + "-" + u.ID, Kind: dsar.OutboxDigest, Payload: payload,
			RunAt: time.Date(day.Year, day.Month, day.Day, dsar.DigestHour, 0, 0, 0, local.Location())}, s.db.now())
		res := s.db.gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(row)
		if res.Error != nil {
			return planned, mapErr(res.Error)
		}
		planned += int(res.RowsAffected)
	}
	return planned, nil
}
