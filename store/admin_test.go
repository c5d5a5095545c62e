package store_test

import (
	"encoding/json"
	"maps"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// Each administration change is one entry of the admin trail, with the
// actor, what and on what, and the facts; a refused change leaves none. An
// admin cannot disable their own account; a second address that is taken
// is refused with a sentence naming it.
func TestAdministrationRecordsEveryChange(t *testing.T) {
	clock := dsar.NewManualClock(at(2025, time.March, 5, 9, 0))
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url, clock)
	adm := store.NewAdmin(db, store.NewAPIKeys(db))
	cli := dsar.Actor{ID: "cli:root", Role: dsar.RoleAdmin}
	boss, err := adm.CreateUser(ctx, cli, "Boss@NTE.no", "boss password 1234", dsar.RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	me := boss.Actor()
	me.IP = "192.0.2.7"
	kari, err := adm.CreateUser(ctx, me, "kari@nte.no", "kari password 1234", dsar.RoleOfficer, []string{"proviso", "nte"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateUser(ctx, me, "kari@nte.no", "kari password 1234", dsar.RoleOfficer, []string{"nte"}); dsar.ErrorCode(err) != dsar.ECONFLICT || dsar.ErrorMessage(err) != "error.user_exists" {
		t.Errorf("a taken address: %v, want error.user_exists", err)
	}
	if _, err := adm.SetUserDisabled(ctx, me, "boss@nte.no", true); dsar.ErrorCode(err) != dsar.ECONFLICT || dsar.ErrorMessage(err) != "error.disable_self" {
		t.Errorf("disabling oneself: %v, want error.disable_self", err)
	}
	if u, _ := adm.User(ctx, boss.ID); u.DisabledAt != nil {
		t.Error("the admin's own account was disabled")
	}
	if _, err := adm.UpdateUser(ctx, me, "kari@nte.no", dsar.RoleAuditor, []string{"nte"}); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.SetUserDisabled(ctx, me, "kari@nte.no", true); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.SetUserDisabled(ctx, me, "kari@nte.no", false); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.ResetPassword(ctx, me, "kari@nte.no", "a new password 1234"); err != nil {
		t.Fatal(err)
	}
	k, _, err := adm.CreateAPIKey(ctx, me, "CRM", dsar.RoleSystem, []string{"nte"})
	if err != nil {
		t.Fatal(err)
	}
	if err := adm.RevokeAPIKey(ctx, me, k.ID); err != nil {
		t.Fatal(err)
	}
	var got []struct{ Actor, ClientIP, Kind, Target, Data string }
	storetest.Select(t, url, &got, "SELECT actor, client_ip, kind, target, data FROM admin_events ORDER BY seq")
	by := "user:" + boss.ID
	want := []struct{ Actor, ClientIP, Kind, Target, Data string }{
		{"cli:root", "", store.AdminUserCreated, boss.ID, `{"controllers":"","email":"boss@nte.no","role":"admin"}`},
		{by, "192.0.2.7", store.AdminUserCreated, kari.ID, `{"controllers":"nte,proviso","email":"kari@nte.no","role":"officer"}`},
		{by, "192.0.2.7", store.AdminUserUpdated, kari.ID, `{"controllers":"nte","controllers_before":"nte,proviso","role":"auditor","role_before":"officer"}`},
		{by, "192.0.2.7", store.AdminUserDisabled, kari.ID, `{"email":"kari@nte.no"}`},
		{by, "192.0.2.7", store.AdminUserEnabled, kari.ID, `{"email":"kari@nte.no"}`},
		{by, "192.0.2.7", store.AdminPasswordReset, kari.ID, `{"email":"kari@nte.no"}`},
		{by, "192.0.2.7", store.AdminAPIKeyCreated, k.ID, `{"controllers":"nte","name":"CRM","role":"system"}`},
		{by, "192.0.2.7", store.AdminAPIKeyRevoked, k.ID, `{}`},
	}
	if len(got) != len(want) {
		t.Fatalf("admin trail: %+v, want %+v", got, want)
	}
	for i := range want {
		// Postgres keeps the data as jsonb, in its own order and spacing.
		var g, w map[string]string
		if json.Unmarshal([]byte(got[i].Data), &g) != nil || json.Unmarshal([]byte(want[i].Data), &w) != nil || !maps.Equal(g, w) {
			t.Errorf("admin event %d: data %s, want %s", i+1, got[i].Data, want[i].Data)
		}
		got[i].Data = want[i].Data
		if got[i] != want[i] {
			t.Errorf("admin event %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
	if rep, err := db.VerifyAudit(ctx); err != nil || !rep.Intact() {
		t.Errorf("audit verify: %+v %v", rep, err)
	}
}
