package api_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// adminEnv is a server with an admin (boss@nte.no) signed in, and the URL
// of its database, to read the admin trail.
type adminEnv struct {
	p    *pageClient
	db   *store.DB
	url  string
	boss *dsar.User
}

func newAdminEnv(t *testing.T) *adminEnv {
	t.Helper()
	url := storetest.URL(t)
	db := storetest.OpenURL(t, url, dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC)))
	boss, err := store.NewUsers(db).Create(context.Background(), "boss@nte.no", "admin password 123", dsar.RoleAdmin, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := newPageClientOn(t, db, nil)
	p.signIn("boss@nte.no", "admin password 123")
	return &adminEnv{p: p, db: db, url: url, boss: boss}
}

// trail returns the admin trail as "actor kind target" lines.
func (e *adminEnv) trail(t *testing.T) []string {
	t.Helper()
	var rows []struct{ Actor, Kind, Target string }
	storetest.Select(t, e.url, &rows, "SELECT actor, kind, target FROM admin_events ORDER BY seq")
	var out []string
	for _, r := range rows {
		out = append(out, r.Actor+" "+r.Kind+" "+r.Target)
	}
	return out
}

// shownOnce is the secret a page shows once.
var shownOnce = regexp.MustCompile(`<p class="message-body"><code>([^<]+)</code></p>`)

func secretOn(t *testing.T, page string) string {
	t.Helper()
	m := shownOnce.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page shows no secret:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

// An admin adds an officer (with a generated password, shown once),
// changes the role, disables and enables the account, resets its password;
// each change takes effect at once (the officer's sessions end) and is an
// entry of the admin trail with the admin as actor. Disabling oneself and
// bad input are refused on the page, in the page's language; a form without
// its CSRF token changes nothing.
func TestAdminManagesOfficers(t *testing.T) {
	e := newAdminEnv(t)
	p, ctx := e.p, context.Background()

	code, page := p.get("/admin/users")
	if code != http.StatusOK || !strings.Contains(page, "boss@nte.no") {
		t.Fatalf("/admin/users: %d", code)
	}
	// Bad input: the reasons, in Norwegian, and the typed address again.
	code, page, _ = p.post("/admin/users", url.Values{"email": {"not an address"}, "role": {"officer"}}, "/admin/users")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "E-postadresse: ") || !strings.Contains(page, "Virksomheter: ") || !strings.Contains(page, `value="not an address"`) {
		t.Errorf("bad input: %d\n%s", code, page)
	}
	// Without the CSRF token: refused, nothing added.
	req, _ := http.NewRequest(http.MethodPost, p.base+"/admin/users", strings.NewReader(url.Values{"email": {"eve@nte.no"}, "role": {"admin"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if code, _, _ := p.do(req); code != http.StatusForbidden {
		t.Errorf("a post without its CSRF token: %d, want 403", code)
	}

	code, page, _ = p.post("/admin/users", url.Values{"email": {"Kari@NTE.no"}, "role": {"officer"}, "controller": {"nte"}}, "/admin/users")
	if code != http.StatusOK || !strings.Contains(page, "Kontoen kari@nte.no er lagt til.") {
		t.Fatalf("create: %d\n%s", code, page)
	}
	password := secretOn(t, page)
	if _, page := p.get("/admin/users"); shownOnce.MatchString(page) {
		t.Error("the generated password is shown again")
	}
	code, page, _ = p.post("/admin/users", url.Values{"email": {"kari@nte.no"}, "role": {"officer"}, "controller": {"nte"}}, "/admin/users")
	if code != http.StatusConflict || !strings.Contains(page, "Det finnes allerede en konto for kari@nte.no.") {
		t.Errorf("a taken address: %d", code)
	}
	users, _ := store.NewAdmin(e.db, store.NewAPIKeys(e.db)).Users(ctx)
	if len(users) != 2 {
		t.Fatalf("%d accounts, want 2 (boss and kari)", len(users))
	}
	kari := users[1]

	officer := newPageClientOn(t, e.db, nil)
	officer.signIn("kari@nte.no", password)
	for _, path := range []string{"/admin/users", "/admin/users/" + kari.ID, "/admin/keys"} {
		if code, _ := officer.get(path); code != http.StatusForbidden {
			t.Errorf("an officer gets %s: %d, want 403", path, code)
		}
	}
	for _, path := range []string{"/admin/users", "/admin/users/" + e.boss.ID + "/disable", "/admin/users/" + e.boss.ID + "/password", "/admin/keys", "/admin/keys/x/revoke"} {
		if code, _, _ := officer.post(path, url.Values{"email": {"x@nte.no"}, "role": {"admin"}, "name": {"x"}}, "/queue"); code != http.StatusForbidden {
			t.Errorf("an officer posts to %s: %d, want 403", path, code)
		}
	}
	signedOut := func(what string) {
		t.Helper()
		if code, _ := officer.get("/queue"); code != http.StatusSeeOther {
			t.Errorf("%s: the officer's session still works (%d)", what, code)
		}
	}
	action := func(action string, form url.Values) (int, string, http.Header) {
		t.Helper()
		return p.post("/admin/users/"+kari.ID+"/"+action, form, "/admin/users/"+kari.ID)
	}

	code, _, h := action("update", url.Values{"role": {"auditor"}, "controller": {"nte", "proviso"}})
	if code != http.StatusSeeOther || h.Get("Location") != "/admin/users/"+kari.ID+"?notice=updated" {
		t.Fatalf("update: %d %s", code, h.Get("Location"))
	}
	if _, page := p.get(h.Get("Location")); !strings.Contains(page, "Rolle og virksomheter er lagret") || !strings.Contains(page, "nte, proviso") {
		t.Error("the account page does not show the change")
	}
	signedOut("after a change of role")
	if u, _ := store.NewUsers(e.db).User(ctx, kari.ID); u.Role != dsar.RoleAuditor || !slices.Equal(u.Controllers, []string{"nte", "proviso"}) {
		t.Errorf("after update: %s %v", u.Role, u.Controllers)
	}
	if code, page, _ := action("update", url.Values{"role": {"officer"}}); code != http.StatusUnprocessableEntity || !strings.Contains(page, "Virksomheter: ") {
		t.Errorf("an officer of no organisation: %d", code)
	}

	officer.signIn("kari@nte.no", password)
	if code, _, h := action("disable", url.Values{}); code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "?notice=disabled") {
		t.Fatalf("disable: %d", code)
	}
	signedOut("after disabling")
	if code, _, _ := officer.post("/signin", url.Values{"email": {"kari@nte.no"}, "password": {password}}, "/signin"); code != http.StatusUnauthorized {
		t.Errorf("a disabled account signs in: %d", code)
	}
	// One's own account: refused with the reason, and no form offers it.
	code, page, _ = p.post("/admin/users/"+e.boss.ID+"/disable", url.Values{}, "/admin/users/"+e.boss.ID)
	if code != http.StatusConflict || !strings.Contains(page, "Du kan ikke deaktivere din egen konto") || strings.Contains(page, "/disable\"") {
		t.Errorf("disabling oneself: %d", code)
	}
	if code, _ := p.get("/queue"); code != http.StatusOK {
		t.Errorf("the admin was signed out by refusing to disable themselves: %d", code)
	}

	if code, _, _ := action("enable", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("enable: %d", code)
	}
	officer.signIn("kari@nte.no", password)

	code, page, _ = action("password", url.Values{"password": {""}})
	if code != http.StatusOK || !strings.Contains(page, "Passordet er tilbakestilt") {
		t.Fatalf("reset: %d", code)
	}
	newPassword := secretOn(t, page)
	signedOut("after a password reset")
	if code, _, _ := officer.post("/signin", url.Values{"email": {"kari@nte.no"}, "password": {password}}, "/signin"); code != http.StatusUnauthorized {
		t.Errorf("the old password still works: %d", code)
	}
	officer.signIn("kari@nte.no", newPassword)
	if code, page, _ := action("password", url.Values{"password": {"short"}}); code != http.StatusUnprocessableEntity || !strings.Contains(page, "Passord: ") {
		t.Errorf("a short password: %d", code)
	}
	if code, _, _ := action("promote", url.Values{}); code != http.StatusNotFound {
		t.Errorf("an unknown action: %d", code)
	}

	by := "user:" + e.boss.ID
	want := []string{
		by + " user_created " + kari.ID, by + " user_updated " + kari.ID, by + " user_disabled " + kari.ID,
		by + " user_enabled " + kari.ID, by + " user_password_reset " + kari.ID,
	}
	if got := e.trail(t); !slices.Equal(got, want) {
		t.Errorf("admin trail:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rep, err := e.db.VerifyAudit(ctx); err != nil || !rep.Intact() {
		t.Errorf("audit verify: %+v %v", rep, err)
	}
}

// An admin creates an API key, shown once, that works for the API at once,
// and revokes it: it stops working at once (401). Both are in the admin
// trail.
func TestAdminManagesAPIKeys(t *testing.T) {
	e := newAdminEnv(t)
	p := e.p
	code, page, _ := p.post("/admin/keys", url.Values{"name": {""}, "role": {"system"}}, "/admin/keys")
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Navn: ") || !strings.Contains(page, "Virksomheter: ") {
		t.Errorf("bad input: %d", code)
	}
	code, page, _ = p.post("/admin/keys", url.Values{"name": {"CRM"}, "role": {"officer"}, "controller": {"nte"}}, "/admin/keys")
	if code != http.StatusOK || !strings.Contains(page, "Nøkkelen CRM er laget.") {
		t.Fatalf("create: %d\n%s", code, page)
	}
	secret := secretOn(t, page)
	if code, _, _ := p.api(http.MethodGet, "/api/v1/requests", secret, ""); code != http.StatusOK {
		t.Fatalf("the new key: %d", code)
	}
	_, page = p.get("/admin/keys")
	if shownOnce.MatchString(page) || strings.Contains(page, secret) {
		t.Error("the secret is shown again")
	}
	m := regexp.MustCompile(`action="/admin/keys/([^/"]+)/revoke"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no revoke form on the key list")
	}
	id := m[1]
	code, _, h := p.post("/admin/keys/"+id+"/revoke", url.Values{}, "/admin/keys")
	if code != http.StatusSeeOther || h.Get("Location") != "/admin/keys?notice=revoked" {
		t.Fatalf("revoke: %d %s", code, h.Get("Location"))
	}
	if code, _, _ := p.api(http.MethodGet, "/api/v1/requests", secret, ""); code != http.StatusUnauthorized {
		t.Errorf("the revoked key: %d, want 401", code)
	}
	if _, page := p.get("/admin/keys?notice=revoked"); !strings.Contains(page, "trukket tilbake") || strings.Contains(page, `action="/admin/keys/`+id+`/revoke"`) {
		t.Error("the list does not show the key revoked")
	}
	if code, _, _ := p.post("/admin/keys/"+id+"/revoke", url.Values{}, "/admin/keys"); code != http.StatusNotFound {
		t.Errorf("revoking twice: %d, want 404", code)
	}
	by := "user:" + e.boss.ID
	if got, want := e.trail(t), []string{by + " apikey_created " + id, by + " apikey_revoked " + id}; !slices.Equal(got, want) {
		t.Errorf("admin trail: %v, want %v", got, want)
	}
}
