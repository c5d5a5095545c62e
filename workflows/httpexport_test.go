package workflows_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/workflows/connector/connectortest"
	"github.com/dsar-project/dsar/workflows/connector/http/fakesystem"
)

// TestAccessCollectsTheExportsOverHTTP approves an access request whose
// systems are reached over HTTP: each export task's records are in its
// blob when its outcome is recorded, and the task's count is the lines
// stored. A worker without storage records a failed attempt and stores
// nothing; the retry stores the data. The status URL of a poll gives the
// records, as the answer or a data_url does.
func TestAccessCollectsTheExportsOverHTTP(t *testing.T) {
	for _, mode := range []fakesystem.Mode{fakesystem.ModeOK, fakesystem.ModeDataURL, fakesystem.ModePoll} {
		t.Run(string(mode), func(t *testing.T) {
			e, sys := httpEnv(t, 0)
			sys.SetMode(mode)
			sys.Hold("kari@example.no", 4)
			blobs, err := blob.NewDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.reqs.Create(ctx, admin, dsar.NewRequest{Type: dsar.TypeAccess, Controller: "digiref", Language: dsar.LanguageEN,
				Subject: dsar.Subject{Email: "kari@example.no"}, Verified: true, VerificationMethod: "portal login"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.reqs.Approve(ctx, digirefOfficer, r.ID, "", nil); err != nil {
				t.Fatal(err)
			}
			if mode == fakesystem.ModePoll {
				e.runTasks(t) // accepted, with a status URL
				e.clock.Advance(dsar.RetryCap)
			}
			e.runTasks(t) // no storage: a failed attempt
			for _, task := range e.tasks(t, r.ID) {
				if task.Attempts != 1 || task.Status != dsar.TaskSent {
					t.Errorf("%s without storage: %s after %d attempts (%s)", task.Target(), task.Status, task.Attempts, task.Answer)
				}
			}
			e.handlers.Blobs = blobs
			e.clock.Advance(dsar.RetryCap)
			e.runTasks(t)
			if mode == fakesystem.ModePoll {
				e.clock.Advance(dsar.RetryCap)
				e.runTasks(t)
			}
			exports := 0
			for _, task := range e.tasks(t, r.ID) {
				if task.Action != dsar.ActionExport {
					continue
				}
				exports++
				got, err := connectortest.ReadExport(ctx, blobs, r.ID, task.ID)
				if err != nil {
					t.Fatalf("%s: %v", task.Target(), err)
				}
				want := make([]dsar.ExportRecord, 4)
				for i := range want {
					cat := ""
					if len(task.Categories) > 0 {
						cat = task.Categories[0]
					}
					want[i] = dsar.ExportRecord{Category: cat, Record: json.RawMessage(fmt.Sprintf(`{"n":%d,"task":%q}`, i+1, task.ID))}
				}
				if task.Status != dsar.TaskDone || task.Count != len(got) {
					t.Errorf("%s: %s, count %d, %d lines stored (%s)", task.Target(), task.Status, task.Count, len(got), task.Answer)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s: the blob (-want +got):\n%s", task.Target(), diff)
				}
			}
			if exports == 0 {
				t.Fatal("no export tasks")
			}
		})
	}
}
