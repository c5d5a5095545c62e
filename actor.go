package dsar

import (
	"context"
	"slices"
	"time"
)

// Role is what an API key or an officer may do.
type Role string

// The roles.
const (
	RoleAdmin   Role = "admin"   // everything
	RoleOfficer Role = "officer" // works the cases of their controllers
	RoleAuditor Role = "auditor" // reads everything of their controllers, changes nothing
	RoleSystem  Role = "system"  // an integrated system: submits requests and reads them back
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleOfficer, RoleAuditor, RoleSystem}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Actor is who performs an operation: an API key, an officer, the public (a
// data subject on the web form), or the service itself.
type Actor struct {
	// ID names the actor in the audit trail: "apikey:<id>", "public", "system".
	ID   string
	Role Role
	// Controllers restricts the actor to these controllers; empty means all
	// (only for admins and the service itself).
	Controllers []string
	// Public is true for an unauthenticated data subject.
	Public bool
	// Subject is true for the data subject of a case acting through its
	// e-mailed link, code or status page token: an actor of its own kind,
	// who may do to that one case what the subject operations allow and
	// nothing else.
	Subject bool
	// IP is the client address the actor acts from, for the audit trail.
	IP string
	// Scopes, when not nil, limits an API key to these kinds of calls
	// besides its role (Allows); nil leaves the role alone to decide.
	Scopes []Scope
}

// ActorPublic is an unauthenticated data subject using the public endpoint.
var ActorPublic = Actor{ID: "public", Public: true}

// ActorService is the service itself (workers, the reconciler).
var ActorService = Actor{ID: "service", Role: RoleAdmin}

// SubjectActorID names the data subject in the audit trail.
const SubjectActorID = "subject"

// ActorSubject is the data subject of a case acting from an address.
func ActorSubject(clientIP string) Actor {
	return Actor{ID: SubjectActorID, Subject: true, IP: clientIP}
}

// CanReadNotes reports whether the actor may read the internal notes of a
// case of the controller: its officers, admins and auditors, never a
// system key or the subject.
func (a Actor) CanReadNotes(controller string) bool {
	return a.CanSee(controller) && a.Role != RoleSystem
}

// Authenticated reports whether the actor holds credentials.
func (a Actor) Authenticated() bool { return !a.Public && a.Role != "" }

// CanSee reports whether the actor may see requests of the controller.
func (a Actor) CanSee(controller string) bool {
	if a.Public {
		return false
	}
	if len(a.Controllers) == 0 {
		return a.Role == RoleAdmin
	}
	return slices.Contains(a.Controllers, controller)
}

// SeeCase returns nil when the actor may see a case of the controller, and
// ENOTFOUND otherwise: a case outside the actor's controllers looks as if
// it did not exist, so that nobody learns of it.
func (a Actor) SeeCase(controller string) error {
	if !a.CanSee(controller) {
		return &Error{Code: ENOTFOUND, Message: "error.not_found"}
	}
	return nil
}

// CanChange reports whether the actor may change requests of the controller.
func (a Actor) CanChange(controller string) bool {
	return a.CanSee(controller) && (a.Role == RoleAdmin || a.Role == RoleOfficer)
}

// APIKey is a credential of an integrated system or an officer's script. Only
// a hash of the secret is stored; the secret is shown once at creation.
type APIKey struct {
	ID          string
	Name        string
	Role        Role
	Controllers []string
	// Scopes limits the key to these kinds of calls; nil (keys created
	// without scopes, every key created before scopes existed) leaves its
	// role alone to decide.
	Scopes     []Scope
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Actor returns the actor an API key authenticates.
func (k *APIKey) Actor() Actor {
	return Actor{ID: "apikey:" + k.ID, Role: k.Role, Controllers: k.Controllers, Scopes: k.Scopes}
}

// APIKeyService creates, finds and revokes API keys.
type APIKeyService interface {
	// Create stores a new key and returns it with its secret, shown only
	// now. Without scopes the key may make every call its role allows.
	Create(ctx context.Context, name string, role Role, controllers []string, scopes ...Scope) (*APIKey, string, error)
	// Authenticate returns the live key whose secret this is, or EUNAUTHORIZED.
	Authenticate(ctx context.Context, secret string) (*APIKey, error)
	List(ctx context.Context) ([]*APIKey, error)
	Revoke(ctx context.Context, id string) error
}

// User is an officer's account: who signs in to the pages, with a role and
// the controllers whose cases the user works.
type User struct {
	ID    string
	Email string
	// Name is how colleagues know the user; it may be empty.
	Name        string
	Role        Role
	Controllers []string
	LockedUntil *time.Time
	// DisabledAt is when an admin disabled the account (nil while enabled):
	// no sign-in, no reminders, no new cases.
	DisabledAt        *time.Time
	PasswordChangedAt time.Time
	CreatedAt         time.Time
}

// Actor returns the actor a signed-in user is.
func (u *User) Actor() Actor {
	return Actor{ID: "user:" + u.ID, Role: u.Role, Controllers: u.Controllers}
}

// MayWork reports whether the user may be given cases of the controller:
// an admin, or an officer of that controller.
func (u *User) MayWork(controller string) bool {
	return u.Role == RoleAdmin || (u.Role == RoleOfficer && slices.Contains(u.Controllers, controller))
}

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 12

// UserService manages officers' accounts and their sessions.
type UserService interface {
	// Create adds a user and returns it.
	Create(ctx context.Context, email, password string, role Role, controllers []string) (*User, error)
	// SignInVerified opens a session for the enabled account of an e-mail
	// address that a single sign-on provider verified.
	SignInVerified(ctx context.Context, email string) (*User, string, error)
	// SignIn checks the password and opens a session, returning its token.
	// Repeated failures lock the account for a while.
	SignIn(ctx context.Context, email, password string) (*User, string, error)
	// Session returns the user of a live session token and extends it.
	Session(ctx context.Context, token string) (*User, error)
	// SignOut ends the session.
	SignOut(ctx context.Context, token string) error
	// ChangePassword checks the old password, sets the new one, and ends the
	// user's other sessions.
	ChangePassword(ctx context.Context, userID, old, new, keepToken string) error
	// Workers returns the officers and admins who may work cases of any of
	// the controllers (of every controller when none are given), by e-mail.
	Workers(ctx context.Context, controllers []string) ([]*User, error)
}

// OfficerDirectory finds whom a case's reminders go to.
type OfficerDirectory interface {
	// ReminderRecipients returns the e-mail addresses of the case's assignee,
	// or of every officer of the controller when nobody is assigned, and of
	// every admin as well when escalate is set. Empty when there is nobody.
	ReminderRecipients(ctx context.Context, controller, assignee string, escalate bool) ([]string, error)
	// User returns one user.
	User(ctx context.Context, id string) (*User, error)
	// AdminEmails returns the e-mail addresses of the enabled admins.
	AdminEmails(ctx context.Context) ([]string, error)
	// PlanDigests writes today's digest for every officer and admin whose
	// morning has come (once a day each, however often it runs) and returns
	// how many it planned.
	PlanDigests(ctx context.Context, now time.Time) (int, error)
}
