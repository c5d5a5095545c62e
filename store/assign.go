package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

// Assign implements dsar.CaseService (dsar.Assign); the store looks up the
// enabled account of userID for the domain to judge.
func (s *Requests) Assign(ctx context.Context, actor dsar.Actor, id, userID string) (*dsar.Request, error) {
	var user *dsar.User
	if userID != "" {
		var u userRow
		err := s.db.gorm.WithContext(ctx).Where("id = ? AND disabled_at IS NULL", userID).Take(&u).Error
		switch {
		case err == nil:
			user = u.toDomain()
		case err != gorm.ErrRecordNotFound:
			return nil, mapErr(err)
		}
	}
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Assign(env, c, actor, userID, user)
	})
}

// Note implements dsar.CaseService (dsar.Note).
func (s *Requests) Note(ctx context.Context, actor dsar.Actor, id, body string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Note(env, c, actor, body)
	})
}

// Reopen implements dsar.CaseService (dsar.Reopen).
func (s *Requests) Reopen(ctx context.Context, actor dsar.Actor, id, reason string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Reopen(env, c, actor, reason)
	})
}

// Approve implements dsar.CaseService (dsar.Approve).
func (s *Requests) Approve(ctx context.Context, actor dsar.Actor, id, note string, leaveOut map[string]string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Approve(env, c, actor, note, leaveOut)
	})
}

// Forward implements dsar.CaseService (dsar.Forward).
func (s *Requests) Forward(ctx context.Context, actor dsar.Actor, id, to string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Forward(env, c, actor, to)
	})
}

// AnnounceFee implements dsar.CaseService (dsar.AnnounceFee).
func (s *Requests) AnnounceFee(ctx context.Context, actor dsar.Actor, id string, basis dsar.FeeBasis, text string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.AnnounceFee(env, c, actor, basis, text)
	})
}

// ClassifyObjection implements dsar.CaseService (dsar.ClassifyObjection).
func (s *Requests) ClassifyObjection(ctx context.Context, actor dsar.Actor, id string, kind dsar.ObjectionKind) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.ClassifyObjection(env, c, actor, kind)
	})
}
