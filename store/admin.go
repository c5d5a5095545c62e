package store

import (
	"context"
	"strings"

	"github.com/dsar-project/dsar"
)

// Admin implements dsar.Administration on the database: each change of an
// account or an API key, then its entry in the administrators' trail. The
// pages and the command line both go through it, so that their entries are
// the same.
type Admin struct {
	db    *DB
	users *Users
	keys  *APIKeys
}

var _ dsar.Administration = (*Admin)(nil)

// NewAdmin returns the administration of db. keys should be the instance
// that authenticates the API's callers, so that a revocation takes effect
// there at once.
func NewAdmin(db *DB, keys *APIKeys) *Admin {
	return &Admin{db: db, users: NewUsers(db), keys: keys}
}

// Users implements dsar.Administration.
func (a *Admin) Users(ctx context.Context) ([]*dsar.User, error) { return a.users.List(ctx) }

// User implements dsar.Administration.
func (a *Admin) User(ctx context.Context, id string) (*dsar.User, error) {
	return a.users.User(ctx, id)
}

// CreateUser implements dsar.Administration.
func (a *Admin) CreateUser(ctx context.Context, actor dsar.Actor, email, password string, role dsar.Role, controllers []string) (*dsar.User, error) {
	u, err := a.users.Create(ctx, email, password, role, controllers)
	if err != nil {
		return nil, err
	}
	return u, a.db.RecordAdmin(ctx, actor, AdminUserCreated, u.ID, map[string]string{
		"email": u.Email, "role": string(u.Role), "controllers": strings.Join(u.Controllers, ",")})
}

// UpdateUser implements dsar.Administration.
func (a *Admin) UpdateUser(ctx context.Context, actor dsar.Actor, email string, role dsar.Role, controllers []string) (*dsar.User, error) {
	before, after, err := a.users.Update(ctx, email, role, controllers)
	if err != nil {
		return nil, err
	}
	return after, a.db.RecordAdmin(ctx, actor, AdminUserUpdated, after.ID, map[string]string{
		"role_before": string(before.Role), "controllers_before": strings.Join(before.Controllers, ","),
		"role": string(after.Role), "controllers": strings.Join(after.Controllers, ",")})
}

// SetUserDisabled implements dsar.Administration.
func (a *Admin) SetUserDisabled(ctx context.Context, actor dsar.Actor, email string, disabled bool) (*dsar.User, error) {
	kind := AdminUserEnabled
	if disabled {
		kind = AdminUserDisabled
		u, err := a.users.byEmail(ctx, email)
		if err != nil {
			return nil, err
		}
		if err := actor.MayDisable(u); err != nil {
			return nil, err
		}
	}
	u, err := a.users.SetDisabled(ctx, email, disabled)
	if err != nil {
		return nil, err
	}
	return u, a.db.RecordAdmin(ctx, actor, kind, u.ID, map[string]string{"email": u.Email})
}

// ResetPassword implements dsar.Administration.
func (a *Admin) ResetPassword(ctx context.Context, actor dsar.Actor, email, password string) (*dsar.User, error) {
	u, err := a.users.ResetPassword(ctx, email, password)
	if err != nil {
		return nil, err
	}
	return u, a.db.RecordAdmin(ctx, actor, AdminPasswordReset, u.ID, map[string]string{"email": u.Email})
}

// APIKeys implements dsar.Administration.
func (a *Admin) APIKeys(ctx context.Context) ([]*dsar.APIKey, error) { return a.keys.List(ctx) }

// CreateAPIKey implements dsar.Administration.
func (a *Admin) CreateAPIKey(ctx context.Context, actor dsar.Actor, name string, role dsar.Role, controllers []string, scopes ...dsar.Scope) (*dsar.APIKey, string, error) {
	k, secret, err := a.keys.Create(ctx, name, role, controllers, scopes...)
	if err != nil {
		return nil, "", err
	}
	data := map[string]string{"name": k.Name, "role": string(k.Role), "controllers": strings.Join(k.Controllers, ",")}
	if k.Scopes != nil {
		data["scopes"] = joinScopes(k.Scopes)
	}
	if err := a.db.RecordAdmin(ctx, actor, AdminAPIKeyCreated, k.ID, data); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// RevokeAPIKey implements dsar.Administration.
func (a *Admin) RevokeAPIKey(ctx context.Context, actor dsar.Actor, id string) error {
	if err := a.keys.Revoke(ctx, id); err != nil {
		return err
	}
	return a.db.RecordAdmin(ctx, actor, AdminAPIKeyRevoked, id, nil)
}
