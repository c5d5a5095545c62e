package dsar_test

import (
	"testing"

	"github.com/dsar-project/dsar"
)

// TestAnOfficersExportComesWithItsData: an officer may not mark an export
// done without the data (CompleteExport); the vendor's confirmation and
// "no data" need none; CompleteExport takes exports only, and its count
// is the records stored.
func TestAnOfficersExportComesWithItsData(t *testing.T) {
	env := testEnv()
	c := shopCase(dsar.TypeAccess, "")
	eff, err := dsar.Approve(env, c, shopOfficer, "ok", nil)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	ads := taskOf(t, c, "ads")
	if ads.Action != dsar.ActionExport {
		t.Fatalf("ads: %s", ads.Action)
	}
	eff, _ = dsar.RecordOutcome(env, c, dsar.ActorService, ads.ID, 0, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson})
	c = apply(c, eff)
	if _, err := dsar.CompleteTask(env, c, shopOfficer, ads.ID, "Exported by hand.", 3, false); code(err) != "invalid:field.export_file.required" {
		t.Errorf("an officer's export done without data: %v", err)
	}
	if _, err := dsar.CompleteTask(env, c, shopOfficer, ads.ID, " ", 3, false); code(err) != "invalid:field.required" {
		t.Errorf("without evidence either: %v", err)
	}
	if _, err := dsar.CompleteTask(env, c, shopOfficer, ads.ID, "Nothing there.", 0, true); err != nil {
		t.Errorf("no data: %v", err)
	}
	if _, err := dsar.CompleteTask(env, c, dsar.ActorService, ads.ID, "Sent the data to the controller.", 0, false); err != nil {
		t.Errorf("the vendor's confirmation: %v", err)
	}
	eff, err = dsar.CompleteExport(env, c, shopOfficer, ads.ID, "Exported by hand.", 4)
	if err != nil {
		t.Fatal(err)
	}
	c = apply(c, eff)
	if got := taskOf(t, c, "ads"); got.Status != dsar.TaskDone || got.Count != 4 || got.Evidence != "Exported by hand." {
		t.Errorf("after the export: %s %d %q", got.Status, got.Count, got.Evidence)
	}
	if _, err := dsar.CompleteExport(env, c, shopOfficer, ads.ID, "Again.", 4); code(err) != "conflict:error.task.none" {
		t.Errorf("an export done twice: %v", err)
	}

	erasure := shopCase(dsar.TypeErasure, "")
	eff, err = dsar.Approve(env, erasure, shopOfficer, "ok", nil)
	if err != nil {
		t.Fatal(err)
	}
	erasure = apply(erasure, eff)
	if _, err := dsar.CompleteExport(env, erasure, shopOfficer, taskOf(t, erasure, "ads").ID, "Deleted.", 1); code(err) != "invalid:field.export_file.not_export" {
		t.Errorf("data for an erasure: %v", err)
	}
}
