package store

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

var _ dsar.StatsSource = (*DB)(nil)

// Stats counts the cases by status and controller, the open cases due soon
// and overdue, and the outbox rows pending and failed, with the lag of the
// oldest due pending row, at the clock's present moment. It reads counts
// only; a few aggregate queries, cheap enough for every scrape.
func (db *DB) Stats(ctx context.Context) (*dsar.Stats, error) {
	now := db.Clock.Now().UTC()
	g := db.gorm.WithContext(ctx)
	s := &dsar.Stats{
		Cases: map[dsar.Status]map[string]int{}, DueSoon: map[string]int{}, Overdue: map[string]int{},
		OutboxPending: map[dsar.OutboxKind]int{}, OutboxFailed: map[dsar.OutboxKind]int{},
	}

	var cases []struct {
		Status, Controller string
		N                  int
	}
	if err := g.Model(&requestRow{}).Select("status, controller, count(*) AS n").Group("status, controller").Scan(&cases).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, r := range cases {
		st := dsar.Status(r.Status)
		if s.Cases[st] == nil {
			s.Cases[st] = map[string]int{}
		}
		s.Cases[st][r.Controller] = r.N
	}

	var due []struct {
		Controller       string
		Overdue, DueSoon int
	}
	if err := g.Model(&requestRow{}).
		Select("controller, SUM(CASE WHEN deadline < ? THEN 1 ELSE 0 END) AS overdue, "+
			"SUM(CASE WHEN deadline >= ? AND deadline < ? THEN 1 ELSE 0 END) AS due_soon", now, now, now.Add(dsar.DueSoonWindow)).
		Where("status IN ?", dsar.OpenStatuses).Group("controller").Scan(&due).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, r := range due {
		s.Overdue[r.Controller], s.DueSoon[r.Controller] = r.Overdue, r.DueSoon
	}

	var outbox []struct {
		Kind, Status string
		N            int
	}
	if err := g.Model(&outboxRow{}).Select("kind, status, count(*) AS n").
		Where("status IN ?", []string{dsar.OutboxPending, dsar.OutboxFailed}).Group("kind, status").Scan(&outbox).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, r := range outbox {
		if r.Status == dsar.OutboxFailed {
			s.OutboxFailed[dsar.OutboxKind(r.Kind)] = r.N
		} else {
			s.OutboxPending[dsar.OutboxKind(r.Kind)] = r.N
		}
	}

	// The oldest due row, read as a row rather than MIN(run_at), which
	// SQLite would hand back as text.
	var oldest outboxRow
	err := g.Select("id, run_at").Where("status = ? AND run_at <= ?", dsar.OutboxPending, now).Order("run_at").Take(&oldest).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
	case err != nil:
		return nil, mapErr(err)
	default:
		s.OutboxLag = max(now.Sub(oldest.RunAt), 0)
	}
	return s, nil
}
