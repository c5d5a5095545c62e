package dsar

import (
	"context"
	"crypto/rand"
	"encoding/base64"
)

// Administration is the admins' work on officers' accounts and API keys,
// shared by the administration pages and the command line. Every change
// ends the account's sessions (for accounts) and is an entry in the
// administrators' audit trail, with the actor who made it and the facts
// before and after.
type Administration interface {
	// Users lists every account, by e-mail address; User finds one by ID.
	Users(ctx context.Context) ([]*User, error)
	User(ctx context.Context, id string) (*User, error)
	// CreateUser adds an account with the password given.
	CreateUser(ctx context.Context, actor Actor, email, password string, role Role, controllers []string) (*User, error)
	// UpdateUser gives the account of the e-mail address another role and
	// other controllers.
	UpdateUser(ctx context.Context, actor Actor, email string, role Role, controllers []string) (*User, error)
	// SetUserDisabled disables the account (MayDisable decides whether the
	// actor may) or enables it again.
	SetUserDisabled(ctx context.Context, actor Actor, email string, disabled bool) (*User, error)
	// ResetPassword sets a new password and unlocks the account.
	ResetPassword(ctx context.Context, actor Actor, email, password string) (*User, error)
	// APIKeys lists every key, revoked ones included, newest first.
	APIKeys(ctx context.Context) ([]*APIKey, error)
	// CreateAPIKey stores a new key and returns it with its secret, shown
	// only now.
	CreateAPIKey(ctx context.Context, actor Actor, name string, role Role, controllers []string, scopes ...Scope) (*APIKey, string, error)
	// RevokeAPIKey revokes a key; it stops working at once.
	RevokeAPIKey(ctx context.Context, actor Actor, id string) error
}

// MayDisable reports whether the actor may disable the account: not their
// own, so that an admin cannot lock themselves out (and leave the service
// without an admin) by a slip; another admin, or the command line, can.
func (a Actor) MayDisable(u *User) error {
	if a.ID == u.Actor().ID {
		return &Error{Code: ECONFLICT, Message: "error.disable_self"}
	}
	return nil
}

// NewPassword returns a generated password (144 random bits), for an
// account whose admin chose none; it is shown to the admin once.
func NewPassword() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
