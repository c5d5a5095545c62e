package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// dashboardCases creates and works cases of nte (and one of proviso) through
// the store's own operations on a manual clock, and leaves the clock at
// 2 April 2025, 12:00 in Oslo. The figures the tests expect are worked out
// by hand in their comments.
func dashboardCases(t *testing.T) (*store.DB, *dsar.ManualClock) {
	t.Helper()
	clock := dsar.NewManualClock(at(2024, time.October, 1, 10, 0))
	db := storetest.Open(t, clock)
	reqs := store.NewRequests(db)
	create := func(ctrl string, typ dsar.RequestType, when time.Time) *dsar.Request {
		t.Helper()
		clock.Set(when)
		in := verifiedRequest(ctrl)
		in.Type = typ
		r, err := reqs.Create(ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	complete := func(r *dsar.Request, when time.Time) {
		t.Helper()
		clock.Set(when)
		if dsar.GivesResults(r.Type) {
			storetest.Ready(t, db, r.ID)
		}
		if _, err := reqs.Complete(ctx, admin, r.ID, dsar.Decision{Summary: "Done."}); err != nil {
			t.Fatal(err)
		}
	}
	refuse := func(r *dsar.Request, when time.Time, g dsar.Ground, partial bool) {
		t.Helper()
		clock.Set(when)
		d := dsar.Decision{Ground: g, Text: "Because.", Partial: partial}
		if partial {
			d.Part, d.Granted = "The invoices.", "The rest."
		}
		if _, err := reqs.Refuse(ctx, admin, r.ID, d); err != nil {
			t.Fatal(err)
		}
		if partial { // the granted part is carried out
			complete(r, when)
		}
	}

	// I: received 1 Oct 2024, answered 15 Jan 2025 (106 days; due 1 Nov,
	// receipt + 3 months is 1 Jan: in neither).
	i := create("nte", dsar.TypeAccess, at(2024, time.October, 1, 10, 0))
	// F: received 1 Dec 2024, due 1 Jan (a holiday) -> 2 Jan; answered 5 Jan
	// (35 days: late for one month, within three).
	f := create("nte", dsar.TypeErasure, at(2024, time.December, 1, 10, 0))
	// E: received 20 Dec 2024, still open: overdue since 20 Jan.
	create("nte", dsar.TypeAccess, at(2024, time.December, 20, 10, 0))
	complete(f, at(2025, time.January, 5, 10, 0))
	// A: received 10 Jan, due 10 Feb, answered 20 Jan (10 days).
	a := create("nte", dsar.TypeAccess, at(2025, time.January, 10, 10, 0))
	complete(i, at(2025, time.January, 15, 10, 0))
	// G: proviso's, received 15 Jan, refused 20 Jan on art11_2 (5 days).
	g := create("proviso", dsar.TypeAccess, at(2025, time.January, 15, 10, 0))
	complete(a, at(2025, time.January, 20, 10, 0))
	refuse(g, at(2025, time.January, 20, 10, 0), dsar.GroundIdentity, false)
	// B: received 1 Feb 00:30 in Oslo (still 31 Jan in UTC: a February
	// case), unextended due date 1 Mar (Saturday) -> 3 Mar; extended;
	// partly refused 20 Mar (47 days: late for one month, within three).
	b := create("nte", dsar.TypeErasure, at(2025, time.February, 1, 0, 30))
	clock.Set(at(2025, time.February, 10, 10, 0))
	if _, err := reqs.Extend(ctx, admin, b.ID, "Many systems to search."); err != nil {
		t.Fatal(err)
	}
	// C: received 15 Feb, due 15 Mar (Saturday) -> 17 Mar; refused whole on
	// art12_5 on 17 Mar (30 days: within one month thanks to the move).
	c := create("nte", dsar.TypeAccess, at(2025, time.February, 15, 9, 0))
	// D: received 5 Mar, due 5 Apr (Saturday) -> 7 Apr: due within 7 days
	// on 2 Apr.
	create("nte", dsar.TypeRectification, at(2025, time.March, 5, 10, 0))
	refuse(c, at(2025, time.March, 17, 10, 0), dsar.GroundManifestlyUnfounded, false)
	refuse(b, at(2025, time.March, 20, 10, 0), dsar.GroundLegalObligation, true)
	// J: received 25 Mar, answered 1 Apr, after the period.
	j := create("nte", dsar.TypePortability, at(2025, time.March, 25, 10, 0))
	complete(j, at(2025, time.April, 1, 10, 0))
	clock.Set(at(2025, time.April, 2, 12, 0))
	return db, clock
}

func TestDashboardFiguresOfAnOfficer(t *testing.T) {
	db, _ := dashboardCases(t)
	from, to := dsar.NewDate(2025, time.January, 1), dsar.NewDate(2025, time.March, 31)
	for _, ctrl := range []string{"", "nte"} {
		got, err := db.Dashboard(ctx, nteOff, ctrl, from, to)
		if err != nil {
			t.Fatal(err)
		}
		want := &dsar.Dashboard{
			Controllers: []string{"nte"}, From: from, To: to, Now: at(2025, time.April, 2, 12, 0).UTC(),
			// A, C (access), B (erasure), D (rectification), J (portability).
			Received:      map[dsar.RequestType]int{dsar.TypeAccess: 2, dsar.TypeErasure: 1, dsar.TypeRectification: 1, dsar.TypePortability: 1},
			ReceivedTotal: 5,
			Months: []dsar.DashboardMonth{
				{Month: "2025-01", ByType: map[dsar.RequestType]int{dsar.TypeAccess: 1}, Total: 1},
				{Month: "2025-02", ByType: map[dsar.RequestType]int{dsar.TypeAccess: 1, dsar.TypeErasure: 1}, Total: 2},
				{Month: "2025-03", ByType: map[dsar.RequestType]int{dsar.TypeRectification: 1, dsar.TypePortability: 1}, Total: 2},
			},
			Extended: 1,                         // B
			Open:     2, DueSoon: 1, Overdue: 1, // D due 7 Apr, E overdue
			// F, I, A completed; C, B refused (J closed after the period).
			Closed:   map[dsar.Status]int{dsar.StatusCompleted: 4, dsar.StatusRefused: 1},
			Answered: 5,
			// A and C within one month; all but I within three.
			WithinOneMonth: 2, WithinThreeMonths: 4, ShareWithinOneMonth: 0.4, ShareWithinThreeMonths: 0.8,
			// 10, 30, 35, 47, 106 days.
			MedianDaysToClose: 35, MeanDaysToClose: 45.6,
			Refusals: []dsar.RefusalCount{
				{Ground: dsar.GroundManifestlyUnfounded, Whole: 1},
				{Ground: dsar.GroundLegalObligation, Partial: 1},
			},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("controller %q (-want +got):\n%s", ctrl, diff)
		}
	}
	// The officer of nte learns nothing of proviso.
	if _, err := db.Dashboard(ctx, nteOff, "proviso", from, to); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("an nte officer asking for proviso: %v", err)
	}
	if _, err := db.Dashboard(ctx, nteOff, "nowhere", from, to); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("an unknown controller: %v", err)
	}
}

func TestDashboardOfAnAdminCountsEveryController(t *testing.T) {
	db, _ := dashboardCases(t)
	from, to := dsar.NewDate(2025, time.January, 1), dsar.NewDate(2025, time.March, 31)
	got, err := db.Dashboard(ctx, admin, "", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got.Controllers, "nte") || !slices.Contains(got.Controllers, "proviso") || !slices.IsSorted(got.Controllers) {
		t.Errorf("controllers %v", got.Controllers)
	}
	// G (proviso: access in January, refused in 5 days on art11_2) joins.
	if got.ReceivedTotal != 6 || got.Received[dsar.TypeAccess] != 3 || got.Months[0].Total != 2 || got.Months[0].ByType[dsar.TypeAccess] != 2 {
		t.Errorf("received %v total %d months %+v", got.Received, got.ReceivedTotal, got.Months)
	}
	if got.Answered != 6 || got.Closed[dsar.StatusRefused] != 2 || got.WithinOneMonth != 3 || got.WithinThreeMonths != 5 {
		t.Errorf("answered %d closed %v within %d/%d", got.Answered, got.Closed, got.WithinOneMonth, got.WithinThreeMonths)
	}
	// 5, 10, 30, 35, 47, 106 days.
	if got.MedianDaysToClose != 32.5 || got.MeanDaysToClose != 233.0/6 {
		t.Errorf("median %v mean %v", got.MedianDaysToClose, got.MeanDaysToClose)
	}
	wantRefusals := []dsar.RefusalCount{
		{Ground: dsar.GroundManifestlyUnfounded, Whole: 1},
		{Ground: dsar.GroundIdentity, Whole: 1},
		{Ground: dsar.GroundLegalObligation, Partial: 1},
	}
	if diff := cmp.Diff(wantRefusals, got.Refusals); diff != "" {
		t.Errorf("refusals (-want +got):\n%s", diff)
	}
	only, err := db.Dashboard(ctx, admin, "proviso", from, to)
	if err != nil || only.ReceivedTotal != 1 || only.Answered != 1 || only.MedianDaysToClose != 5 || only.Open != 0 {
		t.Errorf("proviso alone: %+v, %v", only, err)
	}
}

func TestDashboardPeriodEdgesAndInput(t *testing.T) {
	db, _ := dashboardCases(t)
	// B came on 1 Feb 00:30 in Oslo, 31 Jan 23:30 in UTC: February's.
	feb, err := db.Dashboard(ctx, nteOff, "nte", dsar.NewDate(2025, time.February, 1), dsar.NewDate(2025, time.February, 1))
	if err != nil {
		t.Fatal(err)
	}
	if feb.ReceivedTotal != 1 || feb.Received[dsar.TypeErasure] != 1 || len(feb.Months) != 1 || feb.Months[0].Month != "2025-02" {
		t.Errorf("1 February: %+v", feb)
	}
	jan, err := db.Dashboard(ctx, nteOff, "nte", dsar.NewDate(2025, time.January, 31), dsar.NewDate(2025, time.January, 31))
	if err != nil || jan.ReceivedTotal != 0 {
		t.Errorf("31 January: %+v, %v", jan, err)
	}
	// An empty period: zero figures, every month listed.
	empty, err := db.Dashboard(ctx, nteOff, "nte", dsar.NewDate(2023, time.November, 15), dsar.NewDate(2024, time.February, 1))
	if err != nil {
		t.Fatal(err)
	}
	if empty.ReceivedTotal != 0 || empty.Answered != 0 || empty.MedianDaysToClose != 0 || empty.ShareWithinOneMonth != 0 ||
		len(empty.Refusals) != 0 || len(empty.Months) != 4 || empty.Months[3].Month != "2024-02" || empty.Open != 2 {
		t.Errorf("an empty period: %+v", empty)
	}
	// Nobody sees anything without controllers.
	none, err := db.Dashboard(ctx, dsar.Actor{ID: "x", Role: dsar.RoleOfficer}, "", dsar.NewDate(2025, time.January, 1), dsar.NewDate(2025, time.March, 31))
	if err != nil || none.ReceivedTotal != 0 || none.Open != 0 || len(none.Controllers) != 0 {
		t.Errorf("an officer of no controller: %+v, %v", none, err)
	}
	for _, c := range []struct{ from, to dsar.Date }{
		{dsar.Date{}, dsar.NewDate(2025, time.March, 31)},
		{dsar.NewDate(2025, time.March, 31), dsar.Date{}},
		{dsar.NewDate(2025, time.March, 31), dsar.NewDate(2025, time.March, 30)},
		{dsar.NewDate(2010, time.January, 1), dsar.NewDate(2025, time.March, 30)},
	} {
		if _, err := db.Dashboard(ctx, nteOff, "nte", c.from, c.to); dsar.ErrorCode(err) != dsar.EINVALID {
			t.Errorf("period %s..%s: %v, want EINVALID", c.from, c.to, err)
		}
	}
}
