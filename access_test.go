package dsar_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
)

func shippedController(t *testing.T, key string) *dsar.Controller {
	t.Helper()
	cs, err := dsar.DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	c, ok := cs.Get(key)
	if !ok {
		t.Fatalf("no controller %s", key)
	}
	return c
}

// The portability rule on the shipped data maps: provided or observed data
// (no source) processed on consent or contract by the category and the
// system alike.
func TestPortable(t *testing.T) {
	tests := []struct {
		ctrl, system, category string
		want                   bool
	}{
		{"proviso", "hubspot", "contact", true},                      // consent in both
		{"proviso", "trial-accounts", "contact", true},               // contract in both
		{"proviso", "hubspot", "usage", true},                        // observed use, on consent
		{"proviso", "cst-mailbox", "communication", true},            // contract in both
		{"proviso", "profiling", "profiling", false},                 // derived (has a source), legitimate interest
		{"proviso", "hubspot", "profiling", false},                   // not a category of the system
		{"proviso", "hubspot", "", false},                            // the system did not say
		{"proviso", "nowhere", "contact", false},                     // unknown system
		{"intility", "webshop", "webshop-orders", true},              // contract
		{"intility", "cctv", "cctv", false},                          // legitimate interest only
		{"intility", "visitor-registration", "school-visits", false}, // consent, but from the teacher
		{"intility", "visitor-registration", "visitors", false},      // legitimate interest
		{"intility", "case-system", "newsletter", true},              // consent in both
	}
	for _, tt := range tests {
		c := shippedController(t, tt.ctrl)
		if got := c.Portable(tt.system, tt.category); got != tt.want {
			t.Errorf("%s: Portable(%q, %q) = %v, want %v", tt.ctrl, tt.system, tt.category, got, tt.want)
		}
	}
}

// A system whose own basis is not consent or contract makes even a
// consent-based category not portable there.
func TestPortableNeedsTheSystemsBasisToo(t *testing.T) {
	c := &dsar.Controller{
		Systems:        []dsar.System{{Key: "s", LegalBases: []dsar.LegalBasis{dsar.LegalBasisLegitimateInterest}, DataCategories: []string{"d"}}},
		DataCategories: []dsar.DataCategory{{Key: "d", LegalBases: []dsar.LegalBasis{dsar.LegalBasisConsent}}},
	}
	if c.Portable("s", "d") {
		t.Error("portable on a system that processes on legitimate interest")
	}
	c.Systems[0].LegalBases = append(c.Systems[0].LegalBases, dsar.LegalBasisConsent)
	if !c.Portable("s", "d") {
		t.Error("not portable once the system processes on consent too")
	}
}

func exportTask(id, system string, st dsar.TaskStatus, count int, reason string) *dsar.Task {
	return &dsar.Task{ID: id, System: system, Action: dsar.ActionExport, Status: st, Count: count, Reason: reason}
}

func TestNewAccessReport(t *testing.T) {
	c := shippedController(t, "proviso")
	received := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	r := &dsar.Request{Reference: "R-1", Type: dsar.TypeAccess, Language: dsar.LanguageEN, ReceivedAt: received,
		Decision: dsar.Decision{Partial: true, Ground: dsar.GroundOthersRights, Text: "Other customers' names.", Part: "E-mails naming others"}}
	tasks := []*dsar.Task{
		exportTask("t1", "hubspot", dsar.TaskDone, 3, ""),
		exportTask("t2", "profiling", dsar.TaskDone, 1, ""),
		exportTask("t3", "cst-mailbox", dsar.TaskNoData, 0, ""),
		exportTask("t4", "hotjar", dsar.TaskSkipped, 0, "Hotjar did not answer in 30 days"),
		exportTask("t5", "google-ads", dsar.TaskCancelled, 0, ""),
		{ID: "t6", System: "hubspot", Action: dsar.ActionErase, Status: dsar.TaskFailed}, // not an export
	}
	rep, err := dsar.NewAccessReport(c, r, tasks, now)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Processed {
		t.Error("not processed, with two systems that gave data")
	}
	if diff := cmp.Diff(&dsar.ReportRefusal{Ground: dsar.GroundOthersRights, Text: "Other customers' names.", Part: "E-mails naming others"}, rep.Refusal); diff != "" {
		t.Errorf("refusal (-want +got):\n%s", diff)
	}
	var systems []string
	for _, s := range rep.Systems {
		systems = append(systems, s.Key+":"+string(s.Status))
	}
	if diff := cmp.Diff([]string{"hubspot:done", "profiling:done", "cst-mailbox:no_data", "hotjar:skipped"}, systems); diff != "" {
		t.Errorf("systems (-want +got):\n%s", diff)
	}
	var cats []string
	for _, d := range rep.Categories {
		cats = append(cats, d.Key)
	}
	// communication is only in the CST mailbox, which found nothing.
	if diff := cmp.Diff([]string{"contact", "usage", "profiling"}, cats); diff != "" {
		t.Errorf("categories (-want +got):\n%s", diff)
	}
	if got := rep.Categories[2].Source; got == "" {
		t.Error("the derived category has no source")
	}
	var recips []string
	for _, x := range rep.Recipients {
		recips = append(recips, x.Name)
	}
	// google-ads was cancelled: its recipient Google is not reached.
	if diff := cmp.Diff([]string{"HubSpot"}, recips); diff != "" {
		t.Errorf("recipients (-want +got):\n%s", diff)
	}
	wantTransfers := []dsar.ReportTransfer{
		{To: "HubSpot (nyhetsbrev, skjemaer og webanalyse)", Country: "US", Safeguard: dsar.SafeguardAdequacy},
		{To: "HubSpot", Country: "US", Safeguard: dsar.SafeguardAdequacy},
	}
	if diff := cmp.Diff(wantTransfers, rep.Transfers); diff != "" {
		t.Errorf("transfers (-want +got):\n%s", diff) // Hotjar is in Malta: no transfer
	}
	if len(rep.Decisions) != 1 || rep.Decisions[0].System != "Profilering" || rep.Decisions[0].Logic == "" || rep.Decisions[0].Significance == "" {
		t.Errorf("decisions = %+v", rep.Decisions)
	}
	if rep.Authority.Name != "Datatilsynet" || rep.Authority.Address == "" {
		t.Errorf("authority = %+v", rep.Authority)
	}
	if diff := cmp.Diff([]dsar.RequestType{dsar.TypeRectification, dsar.TypeErasure, dsar.TypeRestriction, dsar.TypeObjection}, rep.Rights); diff != "" {
		t.Errorf("rights (-want +got):\n%s", diff)
	}
	if !rep.CreatedAt.Equal(now) || rep.Reference != "R-1" || rep.Controller.Name != "Proviso AS" {
		t.Errorf("header = %v %q %q", rep.CreatedAt, rep.Reference, rep.Controller.Name)
	}
}

func TestNewAccessReportConfirmsNoProcessing(t *testing.T) {
	c := shippedController(t, "proviso")
	r := &dsar.Request{Type: dsar.TypeAccess}
	rep, err := dsar.NewAccessReport(c, r, []*dsar.Task{exportTask("t1", "hubspot", dsar.TaskNoData, 0, ""), exportTask("t2", "hotjar", dsar.TaskNoData, 0, "")}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Processed || len(rep.Categories) != 0 || len(rep.Recipients) != 0 || len(rep.Transfers) != 0 || rep.Refusal != nil {
		t.Errorf("nothing held, yet the report says %+v", rep)
	}
}

func TestNewAccessReportRefuses(t *testing.T) {
	c := shippedController(t, "proviso")
	tests := []struct {
		name  string
		r     *dsar.Request
		tasks []*dsar.Task
	}{
		{"not an access request", &dsar.Request{Type: dsar.TypeErasure}, nil},
		{"a task still running", &dsar.Request{Type: dsar.TypeAccess}, []*dsar.Task{exportTask("t1", "hubspot", dsar.TaskWaitingPerson, 0, "")}},
		{"a task failed", &dsar.Request{Type: dsar.TypeAccess}, []*dsar.Task{exportTask("t1", "hubspot", dsar.TaskFailed, 0, "")}},
	}
	for _, tt := range tests {
		if _, err := dsar.NewAccessReport(c, tt.r, tt.tasks, time.Now()); dsar.ErrorCode(err) != dsar.ECONFLICT {
			t.Errorf("%s: err = %v, want conflict", tt.name, err)
		}
	}
}

func TestCategoryOrder(t *testing.T) {
	s := &dsar.System{DataCategories: []string{"b", "a"}}
	keys := []string{"z", "a", "", "b", "c"}
	s.CategoryOrder(keys)
	if diff := cmp.Diff([]string{"b", "a", "", "c", "z"}, keys); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
