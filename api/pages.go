package api

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// honeypot is the form field people leave empty and form robots fill in.
const honeypot = "website"

// registerPages adds the data subjects' pages: the controllers, the request
// form, the code page, the verification link and the status page; and,
// with the task service, the vendors' confirmation page. Every form
// carries a CSRF token (see csrf).
func (s *Server) registerPages(e *echo.Echo) {
	g := routes{e: e, mw: []echo.MiddlewareFunc{s.pageLanguage, s.csrf()}}
	g.GET("/", s.indexPage)
	g.GET("/c/:key", s.formPage)
	g.POST("/c/:key", s.submitForm)
	g.GET("/r/:id/verify", s.checkEmailPage)
	g.POST("/r/:id/verify", s.submitCode)
	g.POST("/r/:id/resend", s.resendCode)
	g.GET("/v/:token", s.confirmLinkPage)
	g.POST("/v/:token", s.verifyLink)
	g.GET("/s/:token", s.statusPage)
	g.POST("/s/:token/reply", s.replyForm)
	g.POST("/s/:token/withdraw", s.withdrawForm)
	g.POST("/s/:token/download/code", s.downloadCodeForm)
	g.POST("/s/:token/download", s.downloadForm)
	if s.cfg.Tasks != nil {
		g.GET("/vendor/tasks/:id/:token", s.vendorPage)
		g.POST("/vendor/tasks/:id/:token", s.vendorConfirm)
	}
}

// langChosenKey marks a page whose language the visitor chose (?lang= or
// its cookie) rather than the browser's.
const langChosenKey = "dsar.lang_chosen"

// pageLanguage picks the page's language: ?lang= (remembered in a cookie),
// then the cookie, then Accept-Language.
func (s *Server) pageLanguage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		lang := dsar.Language(c.QueryParam("lang"))
		chosen := true
		if lang.Valid() {
			c.SetCookie(&http.Cookie{Name: "dsar_lang", Value: string(lang), Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure()})
		} else if ck, err := c.Cookie("dsar_lang"); err == nil && dsar.Language(ck.Value).Valid() {
			lang = dsar.Language(ck.Value)
		} else {
			lang, chosen = templates.MatchLanguage(c.Request().Header.Get("Accept-Language"), dsar.LanguageNB), false
		}
		c.Set(langChosenKey, chosen)
		setPageLanguage(c, lang)
		return next(c)
	}
}

func setPageLanguage(c echo.Context, lang dsar.Language) {
	c.Set(langKey, lang)
	c.Response().Header().Set("Content-Language", string(lang))
}

// requestLanguage makes a page about one request speak the request's
// language, unless the subject chose another with the language switch.
func requestLanguage(c echo.Context, req *dsar.Request) {
	if chosen, _ := c.Get(langChosenKey).(bool); !chosen && req.Language.Valid() {
		setPageLanguage(c, req.Language)
	}
}

// page returns the common part of a page.
func (s *Server) page(c echo.Context, ctrl *dsar.Controller, title string) templates.Page {
	lang := languageOf(c)
	p := templates.Page{Lang: lang, Path: c.Request().URL.Path, Title: templates.T(lang, title, nil)}
	if tok, ok := c.Get(csrfKey).(string); ok {
		p.CSRF = tok
	}
	if u, ok := c.Get(userKey).(*dsar.User); ok {
		p.Staff = s.staff(u, p.Path)
	}
	if ctrl != nil {
		p.Brand = templates.Brand{Name: ctrl.LegalName, Logo: ctrl.Branding.Logo, PrimaryColor: ctrl.Branding.PrimaryColor, AccentColor: ctrl.Branding.AccentColor}
		p.ContactEmail = ctrl.PrivacyContact.Email
	}
	return p
}

// staff returns the navigation of a signed-in user's page at path.
func (s *Server) staff(u *dsar.User, path string) *templates.Staff {
	admin := u.Role == dsar.RoleAdmin
	st := &templates.Staff{User: u.Email, Mailbox: s.cfg.Mailbox != nil && admin, Monitor: s.cfg.Queue != nil && admin,
		Admin: s.cfg.Admin != nil && admin,
		Orgs:  map[string]string{}}
	for _, c := range s.cfg.Controllers.All() {
		st.Orgs[c.Key] = c.LegalName
	}
	for _, sec := range []struct{ prefix, name string }{
		{"/queue", "queue"}, {"/cases/", "queue"}, {"/dashboard", "dashboard"}, {"/datamap", "datamap"}, {"/mailbox", "mailbox"},
		{"/admin/users", "admin"}, {"/admin/keys", "admin"}, {"/admin/webhooks", "admin"}, {"/account", "account"},
	} {
		if strings.HasPrefix(path, sec.prefix) {
			st.Section = sec.name
			break
		}
	}
	return st
}

// render writes a page. Pages about one person's case are never cached.
func (s *Server) render(c echo.Context, status int, name string, data any) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	h.Set("Cache-Control", "no-store")
	// Pages have their own styles inline and no scripts.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	var buf strings.Builder
	if err := templates.RenderPage(&buf, name, data); err != nil {
		return err
	}
	c.Response().WriteHeader(status)
	_, err := io.WriteString(c.Response(), buf.String())
	return err
}

// errorPage shows a message in the page's language.
func (s *Server) errorPage(c echo.Context, status int, key string) error {
	p := s.page(c, nil, "page.error.title")
	return s.render(c, status, "error", templates.ErrorPage{Page: p, Message: templates.T(p.Lang, key, nil), Status: status})
}

// pageError turns a domain error into an error page. A dependency that is
// down gets a page that says so, with Retry-After, and changes nothing
// else (no sign-out, no redirect).
func (s *Server) pageError(c echo.Context, err error) error {
	status, ok := statusOf[dsar.ErrorCode(err)]
	if unavailable(c, dsar.ErrorCode(err)) {
		s.cfg.Log.Warn("page failed: a dependency is unavailable", "route", c.Path(), "err", err)
		p := s.page(c, nil, "page.unavailable.title")
		return s.render(c, http.StatusServiceUnavailable, "error", templates.ErrorPage{Page: p,
			Message: templates.T(p.Lang, "error.unavailable", nil), Status: http.StatusServiceUnavailable})
	}
	if !ok || status >= 500 {
		s.cfg.Log.Error("page failed", "route", c.Path(), "err", err)
		return s.errorPage(c, http.StatusInternalServerError, "error.internal")
	}
	var de *dsar.Error
	if errors.As(err, &de) && de.Params != nil {
		p := s.page(c, nil, "page.error.title")
		return s.render(c, status, "error", templates.ErrorPage{Page: p, Message: templates.T(p.Lang, de.Message, de.Params), Status: status})
	}
	return s.errorPage(c, status, dsar.ErrorMessage(err))
}

func (s *Server) indexPage(c echo.Context) error {
	data := templates.IndexPage{Page: s.page(c, nil, "page.index.title")}
	for _, ct := range s.cfg.Controllers.All() {
		data.Controllers = append(data.Controllers, templates.ControllerLink{Key: ct.Key, Name: ct.LegalName, Jurisdiction: string(ct.Jurisdiction)})
	}
	return s.render(c, http.StatusOK, "index", data)
}

func (s *Server) controller(c echo.Context) (*dsar.Controller, error) {
	ct, ok := s.cfg.Controllers.Get(c.Param("key"))
	if !ok {
		return nil, s.errorPage(c, http.StatusNotFound, "error.not_found")
	}
	return ct, nil
}

func (s *Server) formData(c echo.Context, ct *dsar.Controller, v templates.FormValues, errs map[string]string) templates.FormPage {
	data := templates.FormPage{Page: s.page(c, ct, "page.form.title"), ControllerKey: ct.Key, Types: dsar.RequestTypes,
		Identifiers: ct.Identifiers, Regulations: formRegulations(ct), Values: v, Errors: errs, Honeypot: honeypot}
	for _, p := range ct.PortabilityRecipients {
		data.Recipients = append(data.Recipients, templates.Choice{Key: p.Key, Name: p.Name})
	}
	return data
}

// formRegulations lists the regulations the controller allows, its default
// first.
func formRegulations(ct *dsar.Controller) []dsar.Regulation {
	out := []dsar.Regulation{ct.DefaultRegulation}
	for _, r := range ct.Regulations {
		if r != ct.DefaultRegulation {
			out = append(out, r)
		}
	}
	return out
}

func (s *Server) formPage(c echo.Context) error {
	ct, err := s.controller(c)
	if ct == nil {
		return err
	}
	v := templates.FormValues{Language: string(languageOf(c))}
	if t := c.QueryParam("type"); dsar.RequestType(t).Valid() {
		v.Type = t
	}
	return s.render(c, http.StatusOK, "form", s.formData(c, ct, v, nil))
}

// formFields maps the domain's field names to the form's.
var formFields = map[string]string{
	"type": "type", "subject.email": "email", "subject.name": "name", "subject.phone": "phone",
	"subject.customer_id": "customer_id", "details": "details", "language": "language", "objection": "objection", "regulation": "regulation",
	"transmit_to": "transmit_to", "transmit_organisation": "transmit_organisation",
}

// formValues returns the request form as the subject filled it in.
func formValues(c echo.Context) templates.FormValues {
	f := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	return templates.FormValues{Type: f("type"), Email: f("email"), Name: f("name"), Phone: f("phone"),
		CustomerID: f("customer_id"), Details: f("details"), Language: f("language"),
		TransmitTo: f("transmit_to"), TransmitOrganisation: f("transmit_organisation"), Inaccurate: f("inaccurate"), Correct: f("correct"),
		Objection: f("objection"), Regulation: f("regulation")}
}

// expiredForm answers a request form whose CSRF token is missing or stale
// (the form stood open longer than the token lives): the form again, with
// what was typed, the page's current token and a message, and nothing kept.
func (s *Server) expiredForm(c echo.Context) error {
	ct, err := s.controller(c)
	if ct == nil {
		return err
	}
	errs := map[string]string{"form": templates.T(languageOf(c), "error.form_expired", nil)}
	return s.render(c, http.StatusUnprocessableEntity, "form", s.formData(c, ct, formValues(c), errs))
}

func (s *Server) submitForm(c echo.Context) error {
	ct, err := s.controller(c)
	if ct == nil {
		return err
	}
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	v := formValues(c)
	if c.FormValue(honeypot) != "" {
		// A robot: look like success, keep nothing.
		return c.Redirect(http.StatusSeeOther, "/c/"+url.PathEscape(ct.Key)+"?sent=1")
	}
	lang := languageOf(c)
	details := v.Details
	add := func(key, value string) {
		if value != "" {
			details += "\n\n" + templates.T(lang, key, nil) + "\n" + value
		}
	}
	add("page.form.inaccurate", v.Inaccurate)
	add("page.form.correct", v.Correct)
	in := dsar.NewRequest{Type: dsar.RequestType(v.Type), Controller: ct.Key, Language: dsar.Language(v.Language), Regulation: dsar.Regulation(v.Regulation),
		Details: strings.TrimSpace(details), Subject: dsar.Subject{Email: v.Email, Name: v.Name, Phone: v.Phone, CustomerID: v.CustomerID}}
	if in.Type == dsar.TypeObjection {
		// The kind of objection belongs to an objection only; a choice left
		// on the form under another right is not the subject's request.
		in.Objection = dsar.ObjectionKind(v.Objection)
	}
	if in.Type == dsar.TypePortability {
		// Likewise the organisation to send the data to; a name typed
		// without choosing from the list (or with no list) is another
		// organisation.
		in.TransmitTo, in.TransmitOrganisation = v.TransmitTo, v.TransmitOrganisation
		if in.TransmitTo == "" && in.TransmitOrganisation != "" {
			in.TransmitTo = dsar.TransmitOther
		}
	}
	req, err := s.cfg.Requests.Create(c.Request().Context(), withIP(dsar.ActorPublic, c), in)
	var de *dsar.Error
	if errors.As(err, &de) && de.Code == dsar.EINVALID {
		errs := map[string]string{}
		for _, fe := range de.Fields {
			if name, ok := formFields[fe.Field]; ok {
				errs[name] = templates.T(lang, fe.Message, fe.Params)
			}
		}
		return s.render(c, http.StatusUnprocessableEntity, "form", s.formData(c, ct, v, errs))
	}
	if err != nil {
		return s.pageError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, "/r/"+req.ID+"/verify")
}

// maskEmail hides most of the local part: kari@example.no -> k***@example.no.
func maskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 1 {
		return "***"
	}
	return addr[:1] + "***" + addr[at:]
}

// checkEmail shows the page that asks for the e-mailed code, in the
// request's language, with the problem (pageErr) or the notice key given.
func (s *Server) checkEmail(c echo.Context, status int, pageErr *dsar.Error, notice string) error {
	req, err := s.cfg.Subjects.PendingVerification(c.Request().Context(), c.Param("id"))
	if err != nil {
		return s.pageError(c, err)
	}
	requestLanguage(c, req)
	ct, _ := s.cfg.Controllers.Get(req.Controller)
	data := templates.CheckEmailPage{Page: s.page(c, ct, "page.check_email.title"),
		Action: "/r/" + req.ID + "/verify", Resend: "/r/" + req.ID + "/resend", MaskedEmail: maskEmail(req.Subject.Email),
		ExpiresHours: int(s.verifyTTL().Hours())}
	if pageErr != nil {
		data.Error = templates.T(data.Lang, pageErr.Message, pageErr.Params)
	}
	if notice != "" {
		data.Notice = templates.T(data.Lang, notice, nil)
	}
	return s.render(c, status, "check_email", data)
}

func (s *Server) verifyTTL() time.Duration { return s.policy().VerifyTTL }

func (s *Server) checkEmailPage(c echo.Context) error { return s.checkEmail(c, http.StatusOK, nil, "") }

func (s *Server) submitCode(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	_, token, err := s.cfg.Subjects.VerifyCode(c.Request().Context(), c.Param("id"), c.FormValue("code"), c.RealIP())
	if err != nil {
		var de *dsar.Error
		if errors.As(err, &de) && (de.Code == dsar.EINVALID || de.Code == dsar.ECONFLICT) {
			return s.checkEmail(c, http.StatusUnprocessableEntity, de, "")
		}
		return s.pageError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, dsar.StatusPath(token)+"?notice=verified")
}

func (s *Server) resendCode(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	if err := s.cfg.Subjects.ResendVerification(c.Request().Context(), c.Param("id")); err != nil {
		var de *dsar.Error
		if errors.As(err, &de) && (de.Code == dsar.ERATELIMIT || de.Code == dsar.ECONFLICT) {
			return s.checkEmail(c, http.StatusOK, de, "")
		}
		return s.pageError(c, err)
	}
	return s.checkEmail(c, http.StatusOK, nil, "notice.code_sent")
}

// confirmLinkPage is what the e-mailed link opens: a page whose button
// confirms the request. Opening it changes nothing, so a mail scanner that
// follows links does not confirm requests by itself.
func (s *Server) confirmLinkPage(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	req, used, err := s.cfg.Subjects.LinkRequest(c.Request().Context(), c.Param("token"))
	if err != nil {
		return s.pageError(c, err)
	}
	requestLanguage(c, req)
	ct, _ := s.cfg.Controllers.Get(req.Controller)
	return s.render(c, http.StatusOK, "confirm_link", templates.ConfirmLinkPage{Page: s.page(c, ct, "page.confirm_link.title"),
		Action: c.Request().URL.Path, Reference: req.Reference, Used: used})
}

// verifyLink verifies through the e-mailed link, confirmed on its page, and
// leads to the status page.
func (s *Server) verifyLink(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	_, token, err := s.cfg.Subjects.VerifyLink(c.Request().Context(), c.Param("token"), c.RealIP())
	if err != nil {
		return s.pageError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, dsar.StatusPath(token)+"?notice=verified")
}

// historyKinds are the audit events a subject sees, with their text.
var historyKinds = map[dsar.EventKind]string{
	dsar.EventCreated: "history.created", dsar.EventTransition: "history.status", dsar.EventExtended: "history.extended",
	dsar.EventPaused: "history.paused", dsar.EventResumed: "history.resumed", dsar.EventVerified: "history.verified",
	dsar.EventMessage: "history.message",
}

var notices = map[string]string{"verified": "notice.verified", "replied": "notice.replied", "withdrawn": "notice.withdrawn",
	"download_code": "notice.download_code"}

func (s *Server) statusPage(c echo.Context) error {
	return s.showStatus(c, http.StatusOK, "", nil)
}

// showStatus renders the status page, with the error errKey (a catalog key
// and its params) when there is one.
func (s *Server) showStatus(c echo.Context, status int, errKey string, params map[string]any) error {
	return s.showStatusField(c, status, errKey, params, "")
}

// showStatusField is showStatus with the error shown at the form's field
// too (only "code", of the download form, is one).
func (s *Server) showStatusField(c echo.Context, status int, errKey string, params map[string]any, field string) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	req, err := s.cfg.Subjects.ByStatusToken(ctx, token)
	if err != nil {
		return s.pageError(c, err)
	}
	requestLanguage(c, req)
	ct, _ := s.cfg.Controllers.Get(req.Controller)
	lang := languageOf(c)
	data := templates.StatusPage{Page: s.page(c, ct, "page.status.title"), Reference: req.Reference, Type: req.Type,
		Status: req.Status, ReceivedAt: req.ReceivedAt, DueDate: req.DueDate.String(), Extended: req.Extended}
	// The page answers the forms too: its language switch leads to the page.
	data.Path = dsar.StatusPath(token)
	if errKey != "" {
		data.Error = templates.T(lang, errKey, params)
	}
	if key, ok := notices[c.QueryParam("notice")]; ok && errKey == "" {
		// Where the code went, never the whole address.
		data.Notice = templates.T(lang, key, map[string]any{"email": maskEmail(req.Subject.Email)})
	}
	data.Transmission = transmissionView(req, ct)
	if data.Download = s.downloadSection(req, token, lang); data.Download != nil && field == "code" {
		data.Download.CodeError = data.Error
	}
	evs, err := s.cfg.Subjects.SubjectEvents(ctx, req.ID)
	if err != nil {
		return s.pageError(c, err)
	}
	for _, ev := range evs {
		key, ok := historyKinds[ev.Kind]
		if !ok || (ev.Kind == dsar.EventTransition && ev.From == dsar.StatusReceived) {
			continue
		}
		params := map[string]any{"status": templates.T(lang, "status."+string(ev.To), nil), "date": ev.Data["new_due_date"]}
		data.History = append(data.History, templates.HistoryItem{At: ev.At.In(req.ReceivedAt.Location()), Text: templates.T(lang, key, params)})
	}
	msgs, err := s.cfg.Subjects.SubjectMessages(ctx, req.ID)
	if err != nil {
		return s.pageError(c, err)
	}
	var lastAsk dsar.MessageKind
	for _, m := range msgs {
		data.Messages = append(data.Messages, templates.MessageItem{At: m.CreatedAt.In(req.ReceivedAt.Location()), FromSubject: m.FromSubject, Kind: string(m.Kind), Body: m.Body})
		if !m.FromSubject {
			lastAsk = m.Kind
		}
	}
	if req.Status == dsar.StatusAwaitingSubject {
		data.ReplyAction, data.ReplyKind = dsar.StatusPath(token)+"/reply", string(lastAsk)
	}
	if req.Status.Open() {
		data.WithdrawAction = dsar.StatusPath(token) + "/withdraw"
	}
	return s.render(c, status, "status", data)
}

func (s *Server) replyForm(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	var doc *dsar.Document
	if fh, err := c.FormFile("document"); err == nil && fh.Size > 0 {
		if fh.Size > dsar.MaxDocumentSize {
			return s.showStatus(c, http.StatusUnprocessableEntity, "field.file_too_large", map[string]any{"max": dsar.MaxDocumentSize >> 20})
		}
		f, err := fh.Open()
		if err != nil {
			return s.pageError(c, err)
		}
		data, err := io.ReadAll(io.LimitReader(f, dsar.MaxDocumentSize+1))
		f.Close()
		if err != nil {
			return s.pageError(c, err)
		}
		// The domain tells the type from the content and names the file.
		doc = &dsar.Document{Data: data}
	}
	token := c.Param("token")
	if _, err := s.cfg.Subjects.Reply(c.Request().Context(), token, c.FormValue("body"), doc, c.RealIP()); err != nil {
		var de *dsar.Error
		if errors.As(err, &de) && (de.Code == dsar.EINVALID || de.Code == dsar.ECONFLICT) {
			msg := de.Message
			params := de.Params
			if len(de.Fields) > 0 {
				msg, params = de.Fields[0].Message, de.Fields[0].Params
			}
			return s.showStatus(c, http.StatusUnprocessableEntity, msg, params)
		}
		return s.pageError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, dsar.StatusPath(token)+"?notice=replied")
}

func (s *Server) withdrawForm(c echo.Context) error {
	token := c.Param("token")
	if c.FormValue("confirm") == "" {
		return s.showStatus(c, http.StatusUnprocessableEntity, "error.confirm_withdraw", nil)
	}
	if _, err := s.cfg.Subjects.Withdraw(c.Request().Context(), token, c.RealIP()); err != nil {
		if dsar.ErrorCode(err) == dsar.ECONFLICT {
			return s.showStatus(c, http.StatusConflict, dsar.ErrorMessage(err), nil)
		}
		return s.pageError(c, err)
	}
	return c.Redirect(http.StatusSeeOther, dsar.StatusPath(token)+"?notice=withdrawn")
}
