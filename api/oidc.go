package api

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/templates"
)

// OIDC configures single sign-on with an OpenID Connect provider (Microsoft
// Entra ID, Google Workspace, Keycloak, …): an officer whose verified e-mail
// address the provider vouches for is signed in to the account of that
// address. Accounts, roles and controllers stay dsar's (`dsar user`); the
// provider creates none.
type OIDC struct {
	// Issuer is the provider's issuer URL (its discovery document is at
	// Issuer + "/.well-known/openid-configuration").
	Issuer       string
	ClientID     string
	ClientSecret string
	// Name is the provider's name on the sign-in page's button.
	Name string
}

// oidcCookie holds one sign-in's state between the redirect to the
// provider and its way back, for ten minutes, on the callback's path only.
const (
	oidcCookie     = "dsar_oidc"
	oidcCookiePath = "/signin/oidc"
	oidcCookieTTL  = 10 * time.Minute
)

// oidcState is what oidcCookie holds: the state and nonce sent to the
// provider, the PKCE verifier, and where to go after signing in.
type oidcState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"next"`
}

// oidcProvider returns the provider, reading its discovery document on the
// first sign-in (and again after a failure), so that a provider that is
// down does not stop the service from starting.
func (s *Server) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	s.oidcMu.Lock()
	defer s.oidcMu.Unlock()
	if s.oidc != nil {
		return s.oidc, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, s.cfg.OIDC.Issuer)
	if err != nil {
		return nil, err
	}
	s.oidc = p
	return p, nil
}

func (s *Server) oauthConfig(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: s.cfg.OIDC.ClientID, ClientSecret: s.cfg.OIDC.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: strings.TrimSuffix(s.cfg.BaseURL, "/") + "/signin/oidc/callback", Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
}

// oidcFailed shows the sign-in page again with why single sign-on failed.
func (s *Server) oidcFailed(c echo.Context, status int, key string, params map[string]any) error {
	p := s.page(c, nil, "page.signin.title")
	return s.render(c, status, "signin", templates.SignInPage{Page: p, Next: "/queue", SSOName: s.ssoName(),
		Error: templates.T(p.Lang, key, params)})
}

// oidcStart sends the officer to the provider, with a fresh state, nonce
// and PKCE challenge kept in a cookie for the way back.
func (s *Server) oidcStart(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	p, err := s.oidcProvider(c.Request().Context())
	if err != nil {
		s.cfg.Log.Warn("single sign-on provider unavailable", "issuer", s.cfg.OIDC.Issuer, "err", err)
		return s.oidcFailed(c, http.StatusServiceUnavailable, "error.oidc_unavailable", nil)
	}
	st := oidcState{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(), Next: localPath(c.QueryParam("next"))}
	b, _ := json.Marshal(st)
	s.setCookie(c, oidcCookie, oidcCookiePath, base64.RawURLEncoding.EncodeToString(b), int(oidcCookieTTL.Seconds()))
	return c.Redirect(http.StatusFound, s.oauthConfig(p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)))
}

// oidcCallback takes the provider's answer: it checks the state, redeems
// the code with the PKCE verifier, verifies the ID token (signature,
// issuer, audience, expiry, nonce) and signs in the account of its
// verified e-mail address.
func (s *Server) oidcCallback(c echo.Context) error {
	if err := s.limit(c, "ip:"+c.RealIP(), s.cfg.PublicPerMinute); err != nil {
		return s.pageError(c, err)
	}
	ctx := c.Request().Context()
	ck, err := c.Cookie(oidcCookie)
	s.setCookie(c, oidcCookie, oidcCookiePath, "", -1)
	var st oidcState
	if err == nil {
		var b []byte
		if b, err = base64.RawURLEncoding.DecodeString(ck.Value); err == nil {
			err = json.Unmarshal(b, &st)
		}
	}
	if err != nil || st.State == "" || subtle.ConstantTimeCompare([]byte(st.State), []byte(c.QueryParam("state"))) != 1 {
		return s.oidcFailed(c, http.StatusBadRequest, "error.oidc_state", nil)
	}
	if c.QueryParam("error") != "" || c.QueryParam("code") == "" {
		return s.oidcFailed(c, http.StatusUnauthorized, "error.oidc_failed", nil)
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return s.oidcFailed(c, http.StatusServiceUnavailable, "error.oidc_unavailable", nil)
	}
	tok, err := s.oauthConfig(p).Exchange(ctx, c.QueryParam("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		s.cfg.Log.Warn("single sign-on: the code was not redeemed", "err", err)
		return s.oidcFailed(c, http.StatusUnauthorized, "error.oidc_failed", nil)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.OIDC.ClientID, Now: s.cfg.Clock.Now}).Verify(ctx, raw)
	if err != nil || subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		s.cfg.Log.Warn("single sign-on: the ID token was refused", "err", err)
		return s.oidcFailed(c, http.StatusUnauthorized, "error.oidc_failed", nil)
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified *bool  `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email == "" || (claims.EmailVerified != nil && !*claims.EmailVerified) {
		return s.oidcFailed(c, http.StatusForbidden, "error.oidc_email", nil)
	}
	_, token, err := s.cfg.Users.SignInVerified(ctx, claims.Email)
	var de *dsar.Error
	if errors.As(err, &de) && de.Code == dsar.EUNAUTHORIZED {
		return s.oidcFailed(c, http.StatusForbidden, "error.oidc_no_account", map[string]any{"email": claims.Email})
	}
	if err != nil {
		return s.pageError(c, err)
	}
	s.setCookie(c, sessionCookie, "/", token, 0)
	return c.Redirect(http.StatusSeeOther, st.Next)
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
