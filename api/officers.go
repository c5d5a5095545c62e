package api

import (
	"encoding/csv"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// sessionCookie holds an officer's session token.
const sessionCookie = "dsar_session"

const userKey = "dsar.user"

// officerRoutes adds the officers' pages: CSRF on every form, the page
// language, and the session.
func (s *Server) officerRoutes(e *echo.Echo) routes {
	return routes{e: e, mw: []echo.MiddlewareFunc{s.pageLanguage, s.csrf(), s.session}}
}

func (s *Server) secure() bool { return strings.HasPrefix(s.cfg.BaseURL, "https://") }

// setCookie sets one of the officers' cookies: HttpOnly, SameSite=Lax (the
// way back from a single sign-on provider is a cross-site navigation), and
// Secure behind https. maxAge 0 keeps it for the browser's session, -1
// deletes it.
func (s *Server) setCookie(c echo.Context, name, path, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
}

// csrf checks the token of every form of the pages (a double-submit cookie),
// deciding by the token alone, so that a cross-site post gets the same error
// page as a missing token.
func (s *Server) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		AllowSecFetchSiteFunc: func(echo.Context) (bool, error) { return false, nil },
		TokenLookup:           "form:_csrf", CookieName: "dsar_csrf", CookiePath: "/", CookieHTTPOnly: true,
		CookieSecure: s.secure(), CookieSameSite: http.SameSiteStrictMode, CookieMaxAge: 3600,
		ErrorHandler: func(err error, c echo.Context) error {
			return s.errorPage(c, http.StatusForbidden, "error.csrf")
		},
	})
}

// session makes a signed-in officer the actor of the request. A session
// that cannot be looked up (the database is down) is not "no session": the
// officer gets the unavailable page, and stays signed in.
func (s *Server) session(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			u, err := s.cfg.Users.Session(c.Request().Context(), ck.Value)
			switch {
			case err == nil:
				a := u.Actor()
				a.IP = c.RealIP()
				c.Set(actorKey, a)
				c.Set(userKey, u)
			case dsar.ErrorCode(err) != dsar.EUNAUTHORIZED:
				return s.pageError(c, err)
			}
		}
		return next(c)
	}
}

// signedIn sends anonymous visitors to the sign-in page.
func signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := c.Get(userKey).(*dsar.User); !ok {
			return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
		}
		return next(c)
	}
}

// adminOnly refuses every signed-in user but an admin.
func adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if u, _ := c.Get(userKey).(*dsar.User); u == nil || u.Role != dsar.RoleAdmin {
			return &dsar.Error{Code: dsar.EFORBIDDEN, Message: "error.forbidden"}
		}
		return next(c)
	}
}

// registerOfficers adds sign-in, sign-out, the password page and the queue.
func (s *Server) registerOfficers(e *echo.Echo) {
	g := s.officerRoutes(e)
	g.GET("/signin", s.signInPage)
	g.POST("/signin", s.signIn)
	if s.cfg.OIDC != nil {
		g.GET("/signin/oidc", s.oidcStart)
		g.GET("/signin/oidc/callback", s.oidcCallback)
	}
	g.POST("/signout", s.signOut, signedIn)
	g.GET("/account/password", s.passwordPage, signedIn)
	g.POST("/account/password", s.changePassword, signedIn)
	g.GET("/queue", s.queuePage, signedIn)
	g.GET("/queue.csv", s.queueCSV, signedIn)
	g.POST("/queue/bulk", s.queueBulk, signedIn)
	g.GET("/dashboard", s.dashboardPage, signedIn)
	g.GET("/dashboard.json", s.dashboardJSON, signedIn)
	g.GET("/cases/:id", s.casePage, signedIn)
	g.POST("/cases/:id/:action", s.caseAction, signedIn)
}

// ssoName is the single sign-on provider's name for the sign-in page, or
// "" without single sign-on.
func (s *Server) ssoName() string {
	if s.cfg.OIDC == nil {
		return ""
	}
	return s.cfg.OIDC.Name
}

// localPath keeps a "next" target on this site.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/queue"
	}
	return next
}

func (s *Server) signInPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "signin", templates.SignInPage{Page: s.page(c, nil, "page.signin.title"), Next: localPath(c.QueryParam("next")), SSOName: s.ssoName()})
}

func (s *Server) signIn(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	email, next := strings.TrimSpace(c.FormValue("email")), localPath(c.FormValue("next"))
	_, token, err := s.cfg.Users.SignIn(c.Request().Context(), email, c.FormValue("password"))
	if err != nil {
		var de *dsar.Error
		if !errors.As(err, &de) || (de.Code != dsar.EUNAUTHORIZED && de.Code != dsar.ERATELIMIT) {
			return s.pageError(c, err)
		}
		p := s.page(c, nil, "page.signin.title")
		return s.render(c, http.StatusUnauthorized, "signin", templates.SignInPage{Page: p, Email: email, Next: next, SSOName: s.ssoName(), Error: templates.T(p.Lang, de.Message, de.Params)})
	}
	s.setCookie(c, sessionCookie, "/", token, 0)
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) signOut(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Users.SignOut(c.Request().Context(), ck.Value); err != nil {
			return s.pageError(c, err)
		}
	}
	s.setCookie(c, sessionCookie, "/", "", -1)
	return c.Redirect(http.StatusSeeOther, "/signin")
}

func (s *Server) passwordPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "password", templates.PasswordPage{Page: s.page(c, nil, "page.password.title"), MinLength: dsar.MinPasswordLength})
}

func (s *Server) changePassword(c echo.Context) error {
	u := c.Get(userKey).(*dsar.User)
	ck, _ := c.Cookie(sessionCookie)
	p := templates.PasswordPage{Page: s.page(c, nil, "page.password.title"), MinLength: dsar.MinPasswordLength}
	err := s.cfg.Users.ChangePassword(c.Request().Context(), u.ID, c.FormValue("old"), c.FormValue("new"), ck.Value)
	var de *dsar.Error
	switch {
	case err == nil:
		p.Notice = templates.T(p.Lang, "page.password.changed", nil)
		return s.render(c, http.StatusOK, "password", p)
	case errors.As(err, &de) && de.Code == dsar.EINVALID && len(de.Fields) > 0:
		p.Error = templates.T(p.Lang, de.Fields[0].Message, de.Fields[0].Params)
		return s.render(c, http.StatusUnprocessableEntity, "password", p)
	}
	return s.pageError(c, err)
}

var openStatuses = []dsar.Status{dsar.StatusReceived, dsar.StatusAwaitingVerification, dsar.StatusInProgress, dsar.StatusAwaitingSubject}

// queueFilter reads the queue's filter form into the form's values and the
// store's filter.
func (s *Server) queueFilter(c echo.Context, u *dsar.User) (templates.QueueFilter, dsar.RequestFilter) {
	q := c.QueryParams()
	v := templates.QueueFilter{Controller: q.Get("controller"), Type: q.Get("type"), Status: q.Get("status"),
		Search: strings.TrimSpace(q.Get("q")), Overdue: q.Get("overdue") != "", Mine: q.Get("mine") != "", Notice: q.Get("notice") != "",
		Assignee: q.Get("assignee"), Approval: q.Get("approval")}
	f := dsar.RequestFilter{Status: openStatuses, Search: v.Search, Cursor: q.Get("cursor"), Limit: 50}
	if v.Controller != "" {
		f.Controller = []string{v.Controller}
	}
	if dsar.RequestType(v.Type).Valid() {
		f.Type = []dsar.RequestType{dsar.RequestType(v.Type)}
	}
	if st := dsar.Status(v.Status); st.Valid() {
		f.Status = []dsar.Status{st}
	}
	if v.Overdue {
		yes := true
		f.Overdue = &yes
	}
	f.Assignee = v.Assignee
	if v.Mine {
		f.Assignee = u.ID
	}
	switch v.Approval {
	case "pending":
		no := false
		f.Approved, f.Status = &no, []dsar.Status{dsar.StatusInProgress}
	case "approved":
		yes := true
		f.Approved = &yes
	}
	if v.Notice {
		// The extension, if one is needed, must be announced within a week.
		d := dsar.DateOf(s.cfg.Clock.Now()).AddDays(8)
		f.NoticeBefore = &d
	}
	return v, f
}

// queuePage lists the open cases the officer may see, most urgent first,
// filtered as the form says.
func (s *Server) queuePage(c echo.Context) error {
	u := c.Get(userKey).(*dsar.User)
	v, f := s.queueFilter(c, u)
	page, err := s.cfg.Requests.List(c.Request().Context(), actorOf(c), f)
	if err != nil {
		return s.pageError(c, err)
	}
	now := s.cfg.Clock.Now()
	workers, err := s.workers(c, u.Controllers)
	if err != nil {
		return s.pageError(c, err)
	}
	data := templates.QueuePage{Page: s.page(c, nil, "page.queue.title"), UserEmail: u.Email, Filter: v,
		Types: dsar.RequestTypes, Statuses: openStatuses, Controllers: u.Controllers, Workers: workers}
	if len(data.Controllers) == 0 {
		for _, ct := range s.cfg.Controllers.All() {
			data.Controllers = append(data.Controllers, ct.Key)
		}
	}
	query := c.QueryParams()
	query.Del("cursor")
	data.CSV = "/queue.csv?" + query.Encode()
	data.Bulk = "/queue/bulk?" + query.Encode()
	if n := c.QueryParam("done"); n != "" {
		data.Notice = templates.T(data.Lang, "page.queue.bulk_done", map[string]any{"count": n})
	}
	for _, r := range page.Requests {
		today := dsar.DateOf(now.In(r.Deadline.Location()))
		data.Rows = append(data.Rows, templates.QueueRow{ID: r.ID, Reference: r.Reference, Controller: r.Controller, Type: r.Type, Status: r.Status,
			DueDate: r.DueDate.String(), DaysLeft: r.DueDate.Sub(today), Overdue: r.Overdue(now), Assigned: r.Assignee != "", Duplicate: r.DuplicateOf != "", Approved: r.ApprovedAt != nil})
	}
	if page.NextCursor != "" {
		query.Set("cursor", page.NextCursor)
		data.NextPage = "/queue?" + query.Encode()
	}
	return s.render(c, http.StatusOK, "queue", data)
}

// MaxBulk bounds how many cases one bulk action changes.
const MaxBulk = 500

// queueBulk applies one action (assign to me, approve for execution, or a
// note) to every case of the filter (at most MaxBulk), each as its own
// audited change, and comes back to the queue with the count of the cases
// it changed: a case the action does not fit (already approved, not in
// progress) is left as it is.
func (s *Server) queueBulk(c echo.Context) error {
	u := c.Get(userKey).(*dsar.User)
	_, f := s.queueFilter(c, u)
	f.Limit, f.Cursor = MaxBulk, ""
	ctx, a := c.Request().Context(), actorOf(c)
	action, body := c.FormValue("action"), c.FormValue("body")
	if action == "note" {
		if err := dsar.ValidateReason("body", body); err != nil {
			return s.pageError(c, err)
		}
	} else if action != "assign_me" && action != "approve" {
		return s.errorPage(c, http.StatusBadRequest, "error.invalid")
	}
	page, err := s.cfg.Requests.List(ctx, a, f)
	if err != nil {
		return s.pageError(c, err)
	}
	done := 0
	for _, r := range page.Requests {
		switch action {
		case "assign_me":
			_, err = s.cfg.Cases.Assign(ctx, a, r.ID, u.ID)
		case "approve":
			_, err = s.cfg.Cases.Approve(ctx, a, r.ID, body)
		default:
			_, err = s.cfg.Cases.Note(ctx, a, r.ID, body)
		}
		if dsar.ErrorCode(err) == dsar.EFORBIDDEN || dsar.ErrorCode(err) == dsar.ECONFLICT {
			continue // an auditor, a case that closed meanwhile, one not to approve
		}
		if err != nil {
			return s.pageError(c, err)
		}
		done++
	}
	q := c.QueryParams()
	q.Set("done", strconv.Itoa(done))
	return c.Redirect(http.StatusSeeOther, "/queue?"+q.Encode())
}

// MaxCSVRows bounds a CSV export of the queue.
const MaxCSVRows = 100_000

// queueCSV exports the current filter as CSV, page by page.
func (s *Server) queueCSV(c echo.Context) error {
	u := c.Get(userKey).(*dsar.User)
	_, f := s.queueFilter(c, u)
	f.Limit, f.Cursor = 500, ""
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="queue.csv"`)
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"reference", "controller", "type", "status", "regulation", "received_at", "due_date", "deadline", "extended", "assignee", "approved_at", "subject_email"})
	rows := 0
	for rows < MaxCSVRows {
		page, err := s.cfg.Requests.List(c.Request().Context(), actorOf(c), f)
		if err != nil {
			return err // the header is out: the client sees a cut file
		}
		for _, r := range page.Requests {
			_ = w.Write([]string{r.Reference, r.Controller, string(r.Type), string(r.Status), string(r.Regulation),
				r.ReceivedAt.Format(time.RFC3339), r.DueDate.String(), r.Deadline.Format(time.RFC3339),
				strconv.FormatBool(r.Extended), r.Assignee, approvedAt(r), csvSafe(r.Subject.Email)})
			rows++
		}
		if page.NextCursor == "" {
			break
		}
		f.Cursor = page.NextCursor
	}
	w.Flush()
	return w.Error()
}

// csvSafe keeps a spreadsheet from reading a value as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsAny(v[:1], "=+-@\t\r") {
		return "'" + v
	}
	return v
}

// casePage shows one case to an officer or auditor of its controller.
func (s *Server) casePage(c echo.Context) error { return s.showCase(c, http.StatusOK, "") }

func (s *Server) showCase(c echo.Context, status int, errMsg string) error {
	ctx := c.Request().Context()
	a := actorOf(c)
	r, err := s.cfg.Requests.Get(ctx, a, c.Param("id"))
	if err != nil {
		return s.pageError(c, err)
	}
	evs, err := s.cfg.Requests.Events(ctx, a, r.ID)
	if err != nil {
		return s.pageError(c, err)
	}
	msgs, err := s.cfg.Cases.Messages(ctx, a, r.ID)
	if err != nil {
		return s.pageError(c, err)
	}
	now := s.cfg.Clock.Now()
	loc := r.Deadline.Location()
	p := s.page(c, nil, "page.queue.title")
	data := templates.CasePage{Page: p, ID: r.ID, Reference: r.Reference, Controller: r.Controller, Type: r.Type, Status: r.Status,
		Regulation: r.Regulation, SubjectEmail: r.Subject.Email, SubjectName: r.Subject.Name, Details: r.Details, ReceivedAt: r.ReceivedAt,
		DueDate: r.DueDate.String(), ExtensionNoticeBy: r.ExtensionNoticeBy.String(), DaysLeft: r.DueDate.Sub(dsar.DateOf(now.In(loc))),
		Overdue: r.Overdue(now), Extended: r.Extended, Paused: r.PausedAt != nil, CanChange: a.CanChange(r.Controller) && r.Status.Open(),
		Grounds: dsar.Grounds, Error: errMsg, DuplicateOf: r.DuplicateOf,
		CanReopen: a.CanChange(r.Controller) && (r.Status == dsar.StatusCompleted || r.Status == dsar.StatusRefused)}
	if r.VerifiedAt != nil {
		data.Verification = r.VerifiedBy + ", " + r.VerificationMethod
	}
	workers, err := s.workers(c, []string{r.Controller})
	if err != nil {
		return s.pageError(c, err)
	}
	// who names a user by e-mail where the case's people are known.
	who := func(actor string) string {
		for _, w := range workers {
			if actor == "user:"+w.ID {
				return w.Email
			}
		}
		return actor
	}
	if data.CanChange {
		data.Workers = workers
	}
	if r.Assignee != "" {
		data.AssigneeID, data.Assignee = r.Assignee, who("user:"+r.Assignee)
		data.AssignedToMe = r.Assignee == c.Get(userKey).(*dsar.User).ID
	}
	if r.ApprovedAt != nil {
		data.ApprovedBy, data.ApprovedAt = who(r.ApprovedBy), r.ApprovedAt.In(loc)
	}
	data.CanApprove = data.CanChange && r.Status == dsar.StatusInProgress && r.ApprovedAt == nil
	if c.QueryParam("notice") == "done" && errMsg == "" {
		data.Notice = templates.T(p.Lang, "page.case.done", nil)
	}
	for _, ev := range evs {
		data.Timeline = append(data.Timeline, templates.CaseEvent{At: ev.At.In(loc), Actor: ev.Actor, Kind: string(ev.Kind), From: ev.From, To: ev.To, Reason: ev.Reason})
	}
	for _, m := range msgs {
		data.Messages = append(data.Messages, templates.MessageItem{At: m.CreatedAt.In(loc), FromSubject: m.FromSubject, Kind: string(m.Kind), Body: m.Body})
	}
	return s.render(c, status, "case", data)
}

// caseAction runs one officer action from the case page and comes back to
// it: with a notice when it worked, with the reason in the page's language
// when the case or the input did not allow it.
func (s *Server) caseAction(c echo.Context) error {
	ctx, a, id := c.Request().Context(), actorOf(c), c.Param("id")
	var err error
	switch c.Param("action") {
	case "assign":
		to := c.FormValue("to") // a user's ID, or "" for nobody
		if to == "me" {
			to = c.Get(userKey).(*dsar.User).ID
		}
		_, err = s.cfg.Cases.Assign(ctx, a, id, to)
	case "approve":
		_, err = s.cfg.Cases.Approve(ctx, a, id, c.FormValue("note"))
	case "note":
		_, err = s.cfg.Cases.Note(ctx, a, id, c.FormValue("body"))
	case "reopen":
		_, err = s.cfg.Cases.Reopen(ctx, a, id, c.FormValue("reason"))
	case "fee":
		_, err = s.cfg.Cases.AnnounceFee(ctx, a, id, c.FormValue("text"))
	case "forward":
		_, err = s.cfg.Cases.Forward(ctx, a, id, c.FormValue("to"))
	case "extend":
		_, err = s.cfg.Requests.Extend(ctx, a, id, c.FormValue("reason"))
	case "ask":
		_, err = s.cfg.Cases.Ask(ctx, a, id, dsar.MessageKind(c.FormValue("kind")), c.FormValue("body"))
	case "verify":
		_, err = s.cfg.Cases.MarkVerified(ctx, a, id, c.FormValue("method"))
	case "complete":
		_, err = s.cfg.Cases.Complete(ctx, a, id, dsar.Decision{Summary: c.FormValue("summary")})
	case "refuse":
		_, err = s.cfg.Cases.Refuse(ctx, a, id, dsar.Decision{Ground: dsar.Ground(c.FormValue("ground")), Text: c.FormValue("text"), Partial: c.FormValue("partial") != ""})
	default:
		return s.errorPage(c, http.StatusNotFound, "error.not_found")
	}
	var de *dsar.Error
	switch {
	case err == nil:
		return c.Redirect(http.StatusSeeOther, "/cases/"+url.PathEscape(id)+"?notice=done")
	case errors.As(err, &de) && (de.Code == dsar.EINVALID || de.Code == dsar.ECONFLICT):
		lang := languageOf(c)
		msg := templates.T(lang, de.Message, de.Params)
		if len(de.Fields) > 0 {
			msg = de.Fields[0].Field + ": " + templates.T(lang, de.Fields[0].Message, de.Fields[0].Params)
		}
		status := http.StatusConflict
		if de.Code == dsar.EINVALID {
			status = http.StatusUnprocessableEntity
		}
		return s.showCase(c, status, msg)
	}
	return s.pageError(c, err)
}

// workers lists whom cases of the controllers may be assigned to.
func (s *Server) workers(c echo.Context, controllers []string) ([]templates.Worker, error) {
	users, err := s.cfg.Users.Workers(c.Request().Context(), controllers)
	if err != nil {
		return nil, err
	}
	out := make([]templates.Worker, len(users))
	for i, u := range users {
		out[i] = templates.Worker{ID: u.ID, Email: u.Email}
	}
	return out, nil
}

// approvedAt is when the case was approved for execution, or "".
func approvedAt(r *dsar.Request) string {
	if r.ApprovedAt == nil {
		return ""
	}
	return r.ApprovedAt.Format(time.RFC3339)
}
