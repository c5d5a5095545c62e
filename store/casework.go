package store

import (
	"context"

	"github.com/dsar-project/dsar"
	"gorm.io/gorm"
)

// The officers' case operations: each loads the case, lets the domain
// decide, and writes the effect (Requests.change).

// Ask implements dsar.CaseService (dsar.Ask).
func (s *Requests) Ask(ctx context.Context, actor dsar.Actor, id string, kind dsar.MessageKind, body string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Ask(env, c, actor, kind, body)
	})
}

// MarkVerified implements dsar.CaseService (dsar.MarkVerified).
func (s *Requests) MarkVerified(ctx context.Context, actor dsar.Actor, id, method string) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.MarkVerified(env, c, actor, method)
	})
}

// Complete implements dsar.CaseService (dsar.Complete).
func (s *Requests) Complete(ctx context.Context, actor dsar.Actor, id string, d dsar.Decision) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Complete(env, c, actor, d)
	})
}

// Refuse implements dsar.CaseService (dsar.Refuse).
func (s *Requests) Refuse(ctx context.Context, actor dsar.Actor, id string, d dsar.Decision) (*dsar.Request, error) {
	return s.change(ctx, actor, id, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
		return dsar.Refuse(env, c, actor, d)
	})
}

// Documents returns the identity documents of a case, opened, to an officer
// who may change the case.
func (s *Requests) Documents(ctx context.Context, actor dsar.Actor, id string) ([]*dsar.Document, error) {
	db := s.db.gorm.WithContext(ctx)
	row, err := s.load(db, actor, id, false)
	if err != nil {
		return nil, err
	}
	if !actor.CanChange(row.Controller) {
		return nil, &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
	}
	var rows []documentRow
	if err := db.Where("request_id = ?", id).Order("created_at").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]*dsar.Document, 0, len(rows))
	for _, r := range rows {
		data, err := s.db.Keyring.Open(r.Sealed, []byte(r.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, &dsar.Document{ID: r.ID, FileName: r.FileName, ContentType: r.ContentType, Data: data, CreatedAt: r.CreatedAt.UTC()})
	}
	return out, nil
}

// Messages returns the messages of a case; the internal notes only to the
// staff who may read them (never to a system key).
func (s *Requests) Messages(ctx context.Context, actor dsar.Actor, id string) ([]*dsar.Message, error) {
	row, err := s.load(s.db.gorm.WithContext(ctx), actor, id, false)
	if err != nil {
		return nil, err
	}
	return NewSubjects(s.db).messages(ctx, id, actor.CanReadNotes(row.Controller))
}

// Document implements dsar.CaseService (dsar.ViewDocument): the document
// is read and its view recorded in one transaction.
func (s *Requests) Document(ctx context.Context, actor dsar.Actor, id, documentID string) (*dsar.Document, error) {
	var out *dsar.Document
	err := s.db.tx(ctx, func(tx *gorm.DB) error {
		row, err := s.load(tx, actor, id, true)
		if err != nil {
			return err
		}
		var d documentRow
		if err := tx.Where("id = ? AND request_id = ?", documentID, id).Take(&d).Error; err != nil {
			return mapErr(err)
		}
		if _, err := s.db.run(tx, row, func(env dsar.Env, c *dsar.Case) (*dsar.Effect, error) {
			return dsar.ViewDocument(env, c, actor, d.ID)
		}); err != nil {
			return err
		}
		data, err := s.db.Keyring.Open(d.Sealed, []byte(d.ID))
		if err != nil {
			return err
		}
		out = &dsar.Document{ID: d.ID, FileName: d.FileName, ContentType: d.ContentType, Data: data, CreatedAt: d.CreatedAt.UTC()}
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out, nil
}
