package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/blob"
	"github.com/dsar-project/dsar/workflows/connector/connectortest"
)

// upload is a multipart body with the fields and, unless name is "", a
// file of that name and content type.
func upload(t *testing.T, fields map[string]string, name, contentType, content string) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if name != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
		h.Set("Content-Type", contentType)
		p, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = p.Write([]byte(content))
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// contractExportUpload: an officer marks a manual export task done with
// the file of the subject's data, through the API and the case page; a
// file that cannot be used is refused in the officer's language and
// changes nothing.
func contractExportUpload(t *testing.T, base *contractEnv) {
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := newContractEnv(t, func(cfg *api.Config, _ *contractEnv) { cfg.Blobs = blobs })
	e.cov = base.cov
	ctx := context.Background()
	id := contractID(t, e.create(t, "officer", map[string]any{"type": "access", "controller": "nte",
		"subject": map[string]any{"email": "upload@example.no"}, "verified": true, "verification_method": "Signed in"}))
	e.do(t, contractCall{method: "POST", path: "/api/v1/requests/" + id + "/approve", key: "officer", body: map[string]any{}, want: 200})
	admin := dsar.Actor{ID: "apikey:admin", Role: dsar.RoleAdmin}
	reqs := store.NewRequests(e.db)
	list, err := reqs.Tasks(ctx, admin, id)
	if err != nil || len(list) < 2 || list[0].Action != dsar.ActionExport || list[1].Action != dsar.ActionExport {
		t.Fatalf("tasks %v, %v", list, err)
	}
	tasks := store.NewTasks(e.db)
	for _, task := range list[:2] {
		if err := tasks.Callback(ctx, task.ID, dsar.TaskOutcome{Kind: dsar.OutcomeWaitingPerson}); err != nil {
			t.Fatal(err)
		}
	}
	task := list[0]
	done := "/api/v1/requests/" + id + "/tasks/" + task.ID + "/done"
	// An export done without its data.
	a := e.do(t, contractCall{method: "POST", path: done, key: "officer", body: map[string]any{"evidence": "Exported by hand.", "count": 2}, want: 422})
	problemFields(t, a, map[string]string{"file": "field.export_file.required"})
	evidence := map[string]string{"evidence": "Exported from the archive by hand."}
	for _, tc := range []struct {
		name, fileName, contentType, content, code, nb string
		fields                                         map[string]string
		docRejects                                     bool // the document reads the file by its type
	}{
		{"not json", "export.json", "application/json", `[{"id":1},{"id":]`, "field.export_file.invalid",
			"Filen kan ikke leses (record 2: not JSON at byte 15). Ingenting ble lagret.", evidence, true},
		{"ragged csv", "export.csv", "text/csv", "id,name\n1,Kari\n2\n", "field.export_file.invalid", "", evidence, true},
		{"other format", "scan.pdf", "application/pdf", "%PDF-1.7", "field.export_file.format",
			"Filen må være JSON, JSON Lines eller CSV (.json, .jsonl, .ndjson eller .csv).", evidence, true},
		{"empty", "export.csv", "text/csv", "id,name\n", "field.export_file.empty", "", evidence, false},
		{"with no data", "export.csv", "text/csv", "id\n1\n", "field.export_file.no_data", "",
			map[string]string{"evidence": "Nothing there.", "no_data": "true"}, false},
	} {
		body, ct := upload(t, tc.fields, tc.fileName, tc.contentType, tc.content)
		a := e.do(t, contractCall{method: "POST", path: done, key: "officer", lang: "nb", body: body, contentType: ct, want: 422, docRejects: tc.docRejects})
		p := a.problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Field != "file" || p.Errors[0].Code != tc.code || (tc.nb != "" && p.Errors[0].Message != tc.nb) {
			t.Errorf("%s: %+v", tc.name, p.Errors)
		}
	}
	// A body that is not the multipart form it says it is.
	e.do(t, contractCall{method: "POST", path: done, key: "officer", body: "--x\r\nnot a part", contentType: "multipart/form-data; boundary=x",
		want: 400, docRejects: true})
	// None of them changed the task or stored anything.
	if got, _ := reqs.Tasks(ctx, admin, id); got[0].Status != dsar.TaskWaitingPerson {
		t.Fatalf("after refused uploads the task is %s", got[0].Status)
	}
	if _, err := blobs.Open(ctx, dsar.ExportBlobKey(id, task.ID)); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("a refused upload stored something: %v", err)
	}

	// A good one: CSV rows become records.
	body, ct := upload(t, evidence, "archive.csv", "text/csv", "box,page\n12,3\n12,4\n")
	e.do(t, contractCall{method: "POST", path: done, key: "officer", body: body, contentType: ct, want: 200})
	got, _ := reqs.Tasks(ctx, admin, id)
	if got[0].Status != dsar.TaskDone || got[0].Count != 2 || got[0].Evidence != evidence["evidence"] {
		t.Errorf("after the upload: %s %d %q", got[0].Status, got[0].Count, got[0].Evidence)
	}
	category := ""
	if len(task.Categories) == 1 {
		category = task.Categories[0]
	}
	records, err := connectortest.ReadExport(ctx, blobs, id, task.ID)
	want := []dsar.ExportRecord{{Category: category, Record: json.RawMessage(`{"box":"12","page":"3"}`)},
		{Category: category, Record: json.RawMessage(`{"box":"12","page":"4"}`)}}
	if diff := cmp.Diff(want, records); err != nil || diff != "" {
		t.Errorf("stored (-want +got):\n%s%v", diff, err)
	}

	// The case page's form takes the file too (JSON Lines here).
	second := list[1]
	page := "/cases/" + id + "/task_done"
	session := e.signIn(t, "officer")
	body, ct = upload(t, map[string]string{"_csrf": contractCSRF, "task": second.ID, "evidence": "Copied the notes."}, "notes.txt", "text/plain", "notes")
	a = e.do(t, contractCall{method: "POST", path: page, session: session, csrf: contractCSRF, lang: "nb", body: body, contentType: ct, want: 422})
	if !strings.Contains(string(a.body), "file: Filen må være JSON, JSON Lines eller CSV") {
		t.Errorf("the page does not say what is wrong with the file in the officer's language")
	}
	body, ct = upload(t, map[string]string{"_csrf": contractCSRF, "task": second.ID, "evidence": "Copied the notes."}, "notes.jsonl", "", "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n")
	e.do(t, contractCall{method: "POST", path: page, session: session, csrf: contractCSRF, body: body, contentType: ct, want: 303})
	got, _ = reqs.Tasks(ctx, admin, id)
	if got[1].Status != dsar.TaskDone || got[1].Count != 3 {
		t.Errorf("after the page's upload: %s %d", got[1].Status, got[1].Count)
	}
}
