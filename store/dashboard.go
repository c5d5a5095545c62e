package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/dsar-project/dsar"
)

var _ dsar.DashboardSource = (*DB)(nil)

// answeredStatuses close a request with an answer to the subject.
var answeredStatuses = []string{string(dsar.StatusCompleted), string(dsar.StatusRefused)}

// dashboardScope is the controllers of a dashboard grouped by time zone,
// with the UTC bounds of the period's dates in that zone: the instants t
// with start <= t < end.
type dashboardScope struct {
	zones []zoneScope
}

type zoneScope struct {
	loc         *time.Location
	controllers []string
	start, end  time.Time
}

// where returns the condition that column lies in the period in its
// controller's zone, with its arguments.
func (s dashboardScope) where(column string) (string, []any) {
	var (
		parts []string
		args  []any
	)
	for _, z := range s.zones {
		parts = append(parts, "(controller IN ? AND "+column+" >= ? AND "+column+" < ?)")
		args = append(args, z.controllers, z.start, z.end)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

func (s dashboardScope) controllers() []string {
	var out []string
	for _, z := range s.zones {
		out = append(out, z.controllers...)
	}
	slices.Sort(out)
	return out
}

// dashboardControllers returns the controllers a dashboard counts: the one
// asked for when the actor may see it and it is configured, or every
// configured controller the actor may see.
func (db *DB) dashboardControllers(actor dsar.Actor, controller string) ([]string, error) {
	if controller != "" {
		if _, ok := db.Controllers.Get(controller); !ok || !actor.CanSee(controller) {
			return nil, &dsar.Error{Code: dsar.ENOTFOUND, Message: "error.not_found"}
		}
		return []string{controller}, nil
	}
	var out []string
	for _, c := range db.Controllers.All() {
		if actor.CanSee(c.Key) {
			out = append(out, c.Key)
		}
	}
	return out, nil
}

// Dashboard computes the dashboard of the controller ("" for every
// controller the actor may see) over the controller-local dates from to to,
// both included. Counts are aggregated in SQL; months, time zones and the
// median, where the dialects differ, in Go from the columns they need.
func (db *DB) Dashboard(ctx context.Context, actor dsar.Actor, controller string, from, to dsar.Date) (*dsar.Dashboard, error) {
	if err := dsar.ValidateDashboardPeriod(from, to); err != nil {
		return nil, err
	}
	keys, err := db.dashboardControllers(actor, controller)
	if err != nil {
		return nil, err
	}
	now := db.now()
	d := &dsar.Dashboard{
		Controllers: keys, From: from, To: to, Now: now,
		Received: map[dsar.RequestType]int{}, Closed: map[dsar.Status]int{},
		Months: dashboardMonths(from, to), Refusals: []dsar.RefusalCount{},
	}
	if d.Controllers == nil {
		d.Controllers = []string{}
	}
	if len(keys) == 0 {
		return d, nil
	}
	var scope dashboardScope
	byZone := map[string]int{}
	locs := map[string]*time.Location{}
	for _, k := range keys {
		loc := time.UTC
		if c, ok := db.Controllers.Get(k); ok && c.Location != nil {
			loc = c.Location
		}
		locs[k] = loc
		i, ok := byZone[loc.String()]
		if !ok {
			i = len(scope.zones)
			byZone[loc.String()] = i
			scope.zones = append(scope.zones, zoneScope{loc: loc, start: from.StartIn(loc).UTC(), end: to.AddDays(1).StartIn(loc).UTC()})
		}
		scope.zones[i].controllers = append(scope.zones[i].controllers, k)
	}
	g := db.gorm.WithContext(ctx)
	q := func() *gorm.DB { return g.Model(&requestRow{}) }
	receivedIn, receivedArgs := scope.where("received_at")
	closedIn, closedArgs := scope.where("closed_at")

	// Received in the period, by type, with the extensions used.
	var received []struct {
		Type         string
		N, NExtended int
	}
	if err := q().Select("type, count(*) AS n, COALESCE(SUM(CASE WHEN extended THEN 1 ELSE 0 END), 0) AS n_extended").
		Where(receivedIn, receivedArgs...).Group("type").Scan(&received).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, r := range received {
		d.Received[dsar.RequestType(r.Type)] = r.N
		d.ReceivedTotal += r.N
		d.Extended += r.NExtended
	}

	// The months, from the receipt instants in each controller's zone.
	var rows []requestRow
	if err := q().Select("controller, type, received_at").Where(receivedIn, receivedArgs...).Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	index := map[string]int{}
	for i, m := range d.Months {
		index[m.Month] = i
	}
	for _, r := range rows {
		month := r.ReceivedAt.In(locs[r.Controller]).Format("2006-01")
		if i, ok := index[month]; ok {
			d.Months[i].ByType[dsar.RequestType(r.Type)]++
			d.Months[i].Total++
		}
	}

	// Open now: due soon and overdue.
	var open struct{ N, Overdue, DueSoon int }
	if err := q().Select("count(*) AS n, COALESCE(SUM(CASE WHEN deadline < ? THEN 1 ELSE 0 END), 0) AS overdue, "+
		"COALESCE(SUM(CASE WHEN deadline >= ? AND deadline < ? THEN 1 ELSE 0 END), 0) AS due_soon", now, now, now.Add(dsar.DueSoonWindow)).
		Where("status IN ? AND controller IN ?", dsar.OpenStatuses, keys).Scan(&open).Error; err != nil {
		return nil, mapErr(err)
	}
	d.Open, d.Overdue, d.DueSoon = open.N, open.Overdue, open.DueSoon

	// Closed in the period, by status.
	var closed []struct {
		Status string
		N      int
	}
	if err := q().Select("status, count(*) AS n").Where(closedIn, closedArgs...).Where("status NOT IN ?", dsar.OpenStatuses).
		Group("status").Scan(&closed).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, r := range closed {
		d.Closed[dsar.Status(r.Status)] = r.N
	}

	// Refused in the period, by ground: whole (the case closed refused) and
	// partial (the case completed the rest).
	var refused []struct {
		DecisionGround  string
		DecisionPartial bool
		N               int
	}
	if err := q().Select("decision_ground, decision_partial, count(*) AS n").Where(closedIn, closedArgs...).
		Where("(status = ? OR (status = ? AND decision_partial))", dsar.StatusRefused, dsar.StatusCompleted).Group("decision_ground, decision_partial").Scan(&refused).Error; err != nil {
		return nil, mapErr(err)
	}
	byGround := map[dsar.Ground]*dsar.RefusalCount{}
	for _, r := range refused {
		g := dsar.Ground(r.DecisionGround)
		rc := byGround[g]
		if rc == nil {
			rc = &dsar.RefusalCount{Ground: g}
			byGround[g] = rc
		}
		if r.DecisionPartial {
			rc.Partial += r.N
		} else {
			rc.Whole += r.N
		}
	}
	order := slices.Clone(dsar.Grounds)
	var other []dsar.Ground
	for g := range byGround {
		if !g.Valid() {
			other = append(other, g)
		}
	}
	slices.Sort(other)
	for _, g := range append(order, other...) {
		if rc := byGround[g]; rc != nil {
			d.Refusals = append(d.Refusals, *rc)
		}
	}

	// Answered in the period: the time it took, as controller-local dates.
	rows = nil
	if err := q().Select("controller, received_at, closed_at, extension_notice_by").Where(closedIn, closedArgs...).
		Where("status IN ?", answeredStatuses).Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	days := make([]int, 0, len(rows))
	for _, r := range rows {
		if r.ClosedAt == nil {
			continue
		}
		loc := locs[r.Controller]
		receipt, done := dsar.DateOf(r.ReceivedAt.In(loc)), dsar.DateOf(r.ClosedAt.In(loc))
		due, err := dsar.ParseDate(r.ExtensionNoticeBy)
		if err != nil {
			return nil, fmt.Errorf("dashboard: request of %s has extension_notice_by %q: %w", r.Controller, r.ExtensionNoticeBy, err)
		}
		if !done.After(due) {
			d.WithinOneMonth++
		}
		if !done.After(receipt.AddMonths(3)) {
			d.WithinThreeMonths++
		}
		days = append(days, done.Sub(receipt))
	}
	d.Answered = len(days)
	if d.Answered > 0 {
		d.ShareWithinOneMonth = float64(d.WithinOneMonth) / float64(d.Answered)
		d.ShareWithinThreeMonths = float64(d.WithinThreeMonths) / float64(d.Answered)
		d.MedianDaysToClose, d.MeanDaysToClose = medianMean(days)
	}
	d.Controllers = scope.controllers()
	return d, nil
}

// dashboardMonths lists the months from from's to to's, with empty counts.
func dashboardMonths(from, to dsar.Date) []dsar.DashboardMonth {
	var out []dsar.DashboardMonth
	for m := dsar.NewDate(from.Year, from.Month, 1); !m.After(to); m = m.AddMonths(1) {
		out = append(out, dsar.DashboardMonth{Month: fmt.Sprintf("%04d-%02d", m.Year, m.Month), ByType: map[dsar.RequestType]int{}})
	}
	return out
}

// medianMean returns the median and the mean of the (non-empty) values.
func medianMean(v []int) (median, mean float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	sum := 0
	for _, x := range s {
		sum += x
	}
	mid := len(s) / 2
	if len(s)%2 == 1 {
		median = float64(s[mid])
	} else {
		median = float64(s[mid-1]+s[mid]) / 2
	}
	return median, float64(sum) / float64(len(s))
}
