package api

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// registerAdmin adds the administration pages, for signed-in admins: the
// officers' accounts, the API keys and the webhook subscriptions
// (adminwebhooks.go). They change them through
// Config.Admin, as the command line does, so that every change is in the
// administrators' audit trail the same way.
func (s *Server) registerAdmin(e *echo.Echo) {
	g := s.officerRoutes(e)
	g.GET("/admin/users", s.adminUsersPage, signedIn, adminOnly)
	g.POST("/admin/users", s.adminCreateUser, signedIn, adminOnly)
	g.GET("/admin/users/:id", s.adminUserPage, signedIn, adminOnly)
	g.POST("/admin/users/:id/:action", s.adminUserAction, signedIn, adminOnly)
	g.GET("/admin/keys", s.adminKeysPage, signedIn, adminOnly)
	g.POST("/admin/keys", s.adminCreateKey, signedIn, adminOnly)
	g.POST("/admin/keys/:id/revoke", s.adminRevokeKey, signedIn, adminOnly)
	if s.cfg.Webhooks != nil {
		s.registerAdminWebhooks(g)
	}
}

// userRoles are the roles of an account; a key may be a system's too.
var userRoles = []dsar.Role{dsar.RoleOfficer, dsar.RoleAuditor, dsar.RoleAdmin}

// adminFieldKeys names the fields of the administration forms, before
// their problems.
var adminFieldKeys = map[string]string{
	"email": "page.admin.email", "role": "page.admin.role", "controller": "page.admin.controllers",
	"password": "page.admin.password", "name": "page.admin.keys.name", "scopes": "page.admin.keys.scopes",
	"url": "page.admin.webhooks.url", "description": "page.admin.webhooks.description", "events": "page.admin.webhooks.events",
	"controllers": "page.admin.controllers",
}

// adminNotices are the notices of the actions that come back to a page
// (?notice=…).
var adminNotices = map[string]string{
	"updated": "page.admin.user.updated", "disabled": "page.admin.user.disabled", "enabled": "page.admin.user.enabled",
	"revoked": "page.admin.keys.revoked_notice", "webhook_deleted": "page.admin.webhooks.deleted",
}

func (s *Server) roleChoices(lang dsar.Language, roles []dsar.Role, chosen dsar.Role) []templates.AdminChoice {
	out := make([]templates.AdminChoice, len(roles))
	for i, r := range roles {
		out[i] = templates.AdminChoice{Value: string(r), Label: templates.RoleName(lang, r), Checked: r == chosen}
	}
	return out
}

func (s *Server) controllerChoices(chosen []string) []templates.AdminChoice {
	var out []templates.AdminChoice
	for _, ct := range s.cfg.Controllers.All() {
		out = append(out, templates.AdminChoice{Value: ct.Key, Label: ct.LegalName, Checked: slices.Contains(chosen, ct.Key)})
	}
	return out
}

// scopeChoices are the scopes a key may be given, described in lang.
func scopeChoices(lang dsar.Language, chosen []dsar.Scope) []templates.AdminChoice {
	out := make([]templates.AdminChoice, len(dsar.Scopes))
	for i, sc := range dsar.Scopes {
		out[i] = templates.AdminChoice{Value: string(sc), Label: templates.ScopeDescription(lang, sc), Checked: slices.Contains(chosen, sc)}
	}
	return out
}

// adminProblems turns the refusal of an administration change into the
// page's status and messages in its language; ok is false for any other
// error, which gets the error page.
func adminProblems(lang dsar.Language, err error) (status int, msgs []string, ok bool) {
	var de *dsar.Error
	if !errors.As(err, &de) {
		return 0, nil, false
	}
	switch de.Code {
	case dsar.EINVALID, dsar.ECONFLICT:
	default:
		return 0, nil, false
	}
	for _, f := range de.Fields {
		msg := templates.T(lang, f.Message, f.Params)
		if k, ok := adminFieldKeys[f.Field]; ok {
			msg = templates.T(lang, k, nil) + ": " + msg
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) == 0 {
		msgs = []string{templates.T(lang, de.Message, de.Params)}
	}
	return statusOf[de.Code], msgs, true
}

func formList(c echo.Context, name string) []string {
	params, err := c.FormParams()
	if err != nil {
		return nil
	}
	return params[name]
}

func adminUser(u *dsar.User, now dsar.Clock) templates.AdminUser {
	return templates.AdminUser{ID: u.ID, Email: u.Email, Role: u.Role, Controllers: u.Controllers, CreatedAt: u.CreatedAt,
		DisabledAt: u.DisabledAt, Locked: u.LockedUntil != nil && now.Now().Before(*u.LockedUntil)}
}

// usersPage is the list of accounts with the form to add one.
func (s *Server) usersPage(c echo.Context) (templates.AdminUsersPage, error) {
	p := templates.AdminUsersPage{Page: s.page(c, nil, "page.admin.users.title")}
	list, err := s.cfg.Admin.Users(c.Request().Context())
	if err != nil {
		return p, err
	}
	for _, u := range list {
		p.Users = append(p.Users, adminUser(u, s.cfg.Clock))
	}
	p.Roles, p.Controllers = s.roleChoices(p.Lang, userRoles, dsar.RoleOfficer), s.controllerChoices(nil)
	return p, nil
}

func (s *Server) adminUsersPage(c echo.Context) error {
	p, err := s.usersPage(c)
	if err != nil {
		return s.pageError(c, err)
	}
	return s.render(c, http.StatusOK, "admin_users", p)
}

// adminCreateUser adds an account, with the password typed or a generated
// one, shown only on the page that answers.
func (s *Server) adminCreateUser(c echo.Context) error {
	email, role, ctrls, password := c.FormValue("email"), dsar.Role(c.FormValue("role")), formList(c, "controller"), c.FormValue("password")
	generated := password == ""
	if generated {
		password = dsar.NewPassword()
	}
	u, err := s.cfg.Admin.CreateUser(c.Request().Context(), actorOf(c), email, password, role, ctrls)
	p, lerr := s.usersPage(c)
	if lerr != nil {
		return s.pageError(c, lerr)
	}
	if err != nil {
		status, msgs, ok := adminProblems(p.Lang, err)
		if !ok {
			return s.pageError(c, err)
		}
		p.Errors, p.Email = msgs, email
		p.Roles, p.Controllers = s.roleChoices(p.Lang, userRoles, role), s.controllerChoices(ctrls)
		return s.render(c, status, "admin_users", p)
	}
	p.Notice = templates.T(p.Lang, "page.admin.users.created", map[string]any{"email": u.Email})
	if generated {
		p.Password = password
	}
	return s.render(c, http.StatusOK, "admin_users", p)
}

// userPage is one account with its forms; nil user when there is none.
func (s *Server) userPage(c echo.Context) (templates.AdminUserPage, *dsar.User, error) {
	p := templates.AdminUserPage{Page: s.page(c, nil, "page.admin.users.title")}
	u, err := s.cfg.Admin.User(c.Request().Context(), c.Param("id"))
	if err != nil {
		return p, nil, err
	}
	p.Title = u.Email
	p.User = adminUser(u, s.cfg.Clock)
	p.Self = actorOf(c).MayDisable(u) != nil
	p.Roles, p.Controllers = s.roleChoices(p.Lang, userRoles, u.Role), s.controllerChoices(u.Controllers)
	return p, u, nil
}

func (s *Server) adminUserPage(c echo.Context) error {
	p, _, err := s.userPage(c)
	if err != nil {
		return s.pageError(c, err)
	}
	p.Notice = adminNotice(c, p.Lang)
	return s.render(c, http.StatusOK, "admin_user", p)
}

// adminUserAction changes an account: update (role, controllers),
// disable, enable, password (a reset, to the password typed or a generated
// one shown only now).
func (s *Server) adminUserAction(c echo.Context) error {
	p, u, err := s.userPage(c)
	if err != nil {
		return s.pageError(c, err)
	}
	ctx, a := c.Request().Context(), actorOf(c)
	var notice, password string
	switch action := c.Param("action"); action {
	case "update":
		role, ctrls := dsar.Role(c.FormValue("role")), formList(c, "controller")
		_, err = s.cfg.Admin.UpdateUser(ctx, a, u.Email, role, ctrls)
		p.Roles, p.Controllers = s.roleChoices(p.Lang, userRoles, role), s.controllerChoices(ctrls) // as typed, should it fail
		notice = "updated"
	case "disable", "enable":
		_, err = s.cfg.Admin.SetUserDisabled(ctx, a, u.Email, action == "disable")
		notice = action + "d"
	case "password":
		password = c.FormValue("password")
		generated := password == ""
		if generated {
			password = dsar.NewPassword()
		}
		if _, err = s.cfg.Admin.ResetPassword(ctx, a, u.Email, password); err == nil {
			if p, _, err = s.userPage(c); err != nil {
				return s.pageError(c, err)
			}
			p.Notice = templates.T(p.Lang, "page.admin.user.password_reset", nil)
			if generated {
				p.Password = password
			}
			return s.render(c, http.StatusOK, "admin_user", p)
		}
	default:
		return s.errorPage(c, http.StatusNotFound, "error.not_found")
	}
	if err != nil {
		status, msgs, ok := adminProblems(p.Lang, err)
		if !ok {
			return s.pageError(c, err)
		}
		p.Errors = msgs
		return s.render(c, status, "admin_user", p)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/users/"+u.ID+"?notice="+notice)
}

// adminNotice is the notice of the last change an administration page
// redirected with, in the page's language ("" for none).
func adminNotice(c echo.Context, lang dsar.Language) string {
	if k, ok := adminNotices[c.QueryParam("notice")]; ok {
		return templates.T(lang, k, nil)
	}
	return ""
}

// keysPage is the list of API keys with the form to create one.
func (s *Server) keysPage(c echo.Context) (templates.AdminKeysPage, error) {
	p := templates.AdminKeysPage{Page: s.page(c, nil, "page.admin.keys.title")}
	list, err := s.cfg.Admin.APIKeys(c.Request().Context())
	if err != nil {
		return p, err
	}
	for _, k := range list {
		p.Keys = append(p.Keys, templates.AdminKey{ID: k.ID, Name: k.Name, Role: k.Role, Controllers: k.Controllers,
			Scopes: k.Scopes, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt})
	}
	p.Roles, p.Controllers, p.Scopes = s.roleChoices(p.Lang, dsar.Roles, dsar.RoleSystem), s.controllerChoices(nil), scopeChoices(p.Lang, nil)
	return p, nil
}

func (s *Server) adminKeysPage(c echo.Context) error {
	p, err := s.keysPage(c)
	if err != nil {
		return s.pageError(c, err)
	}
	p.Notice = adminNotice(c, p.Lang)
	return s.render(c, http.StatusOK, "admin_keys", p)
}

// adminCreateKey creates a key; its secret is on the page that answers and
// nowhere else.
func (s *Server) adminCreateKey(c echo.Context) error {
	name, role, ctrls := c.FormValue("name"), dsar.Role(c.FormValue("role")), formList(c, "controller")
	var scopes []dsar.Scope
	for _, sc := range formList(c, "scope") {
		scopes = append(scopes, dsar.Scope(sc))
	}
	k, secret, err := s.cfg.Admin.CreateAPIKey(c.Request().Context(), actorOf(c), name, role, ctrls, scopes...)
	p, lerr := s.keysPage(c)
	if lerr != nil {
		return s.pageError(c, lerr)
	}
	if err != nil {
		status, msgs, ok := adminProblems(p.Lang, err)
		if !ok {
			return s.pageError(c, err)
		}
		p.Errors, p.Name = msgs, name
		p.Roles, p.Controllers, p.Scopes = s.roleChoices(p.Lang, dsar.Roles, role), s.controllerChoices(ctrls), scopeChoices(p.Lang, scopes)
		return s.render(c, status, "admin_keys", p)
	}
	p.Notice, p.Secret = templates.T(p.Lang, "page.admin.keys.created", map[string]any{"name": k.Name}), secret
	return s.render(c, http.StatusOK, "admin_keys", p)
}

func (s *Server) adminRevokeKey(c echo.Context) error {
	if err := s.cfg.Admin.RevokeAPIKey(c.Request().Context(), actorOf(c), c.Param("id")); err != nil {
		return s.pageError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/keys?notice=revoked")
}
