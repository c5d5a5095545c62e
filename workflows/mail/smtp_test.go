package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"
	gomail "github.com/wneessen/go-mail"
)

// testMessage returns a message with Norwegian text in every part.
func testMessage(id string) *Message {
	return &Message{
		ID:      id,
		From:    "Personvern Eksempel AS <personvern@eksempel.no>",
		To:      []string{"Åse Ødegård <ase@example.org>"},
		Subject: "Vi har mottatt forespørselen din – æøå ÆØÅ (ref. DSAR-2025-0042)",
		Text:    "Hei Åse,\n\nvi har mottatt forespørselen din om innsyn.\nVennlig hilsen\nEksempel AS\n",
		HTML:    "<!DOCTYPE html>\n<html lang=\"nb\"><body><p>Hei Åse,</p><p>vi har mottatt forespørselen din om innsyn. Blåbærsyltetøy.</p></body></html>\n",
		Date:    time.Date(2025, 3, 3, 9, 30, 0, 0, time.FixedZone("CET", 3600)),
	}
}

// checkMIME parses raw as an RFC 5322 message and checks it carries m.
func checkMIME(t *testing.T, raw []byte, m *Message) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, raw)
	}
	h := msg.Header
	if got, want := h.Get("Message-ID"), "<"+m.ID+">"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	rawSubject := h.Get("Subject")
	for _, r := range rawSubject {
		if r > 127 {
			t.Errorf("Subject header is not MIME-encoded: %q", rawSubject)
			break
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(rawSubject)
	if err != nil || subject != m.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subject, err, m.Subject)
	}
	date, err := h.Date()
	if err != nil || !date.Equal(m.Date) {
		t.Errorf("Date = %v (%v), want %v", date, err, m.Date)
	}
	from, err := mail.ParseAddress(h.Get("From"))
	if err != nil || from.Address != "personvern@eksempel.no" || from.Name != "Personvern Eksempel AS" {
		t.Errorf("From = %q -> %+v, %v", h.Get("From"), from, err)
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != "ase@example.org" || to[0].Name != "Åse Ødegård" {
		t.Errorf("To = %q -> %+v, %v", h.Get("To"), to, err)
	}

	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	want := map[string]string{"text/plain": m.Text, "text/html": m.HTML}
	got := map[string]string{}
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		ct, cparams, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type %q: %v", p.Header.Get("Content-Type"), err)
		}
		if !strings.EqualFold(cparams["charset"], "utf-8") {
			t.Errorf("%s charset = %q, want UTF-8", ct, cparams["charset"])
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		got[ct] = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parts differ (-want +got):\n%s", diff)
	}
}

func newSMTP(t *testing.T, rawURL string) *SMTP {
	t.Helper()
	s, err := NewSMTP(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSMTPSendPlain(t *testing.T) {
	be := &backend{}
	addr := startServer(t, be, modePlain)
	m := testMessage("outbox-1@dsar.example")
	if err := newSMTP(t, "smtp://"+addr+"?tls=none").Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	msgs := be.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "personvern@eksempel.no" || !cmp.Equal(got.To, []string{"ase@example.org"}) {
		t.Errorf("envelope = %q -> %q", got.From, got.To)
	}
	if got.TLS || got.User != "" {
		t.Errorf("TLS = %v, user = %q; want neither", got.TLS, got.User)
	}
	checkMIME(t, got.Data, m)
}

func TestSMTPSendTextOnly(t *testing.T) {
	be := &backend{}
	addr := startServer(t, be, modePlain)
	m := testMessage("outbox-2@dsar.example")
	m.HTML = ""
	if err := newSMTP(t, "smtp://"+addr+"?tls=none").Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(be.messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if ct, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); ct != "text/plain" {
		t.Errorf("Content-Type = %q, want text/plain", msg.Header.Get("Content-Type"))
	}
}

func TestSMTPSendSTARTTLSWithAuth(t *testing.T) {
	be := &backend{user: "dsar@eksempel.no", password: "p@ss:wørd/?#"}
	addr := startServer(t, be, modeSTARTTLS)
	u := "smtp://" + url.QueryEscape(be.user) + ":" + url.QueryEscape(be.password) + "@" + addr + "?insecure_skip_verify=true"
	m := testMessage("outbox-3@dsar.example")
	if err := newSMTP(t, u).Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	msgs := be.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	if !msgs[0].TLS {
		t.Error("message arrived without TLS")
	}
	if msgs[0].User != be.user {
		t.Errorf("authenticated as %q, want %q", msgs[0].User, be.user)
	}
	checkMIME(t, msgs[0].Data, m)
}

func TestSMTPSendSMTPS(t *testing.T) {
	be := &backend{user: "dsar", password: "secret"}
	addr := startServer(t, be, modeSMTPS)
	m := testMessage("outbox-4@dsar.example")
	if err := newSMTP(t, "smtps://dsar:secret@"+addr+"?insecure_skip_verify=true").Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	msgs := be.messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "dsar" {
		t.Fatalf("got %+v", msgs)
	}
	checkMIME(t, msgs[0].Data, m)
}

// TestSMTPSendFailures checks that everything but a refusal of the message
// itself is temporary.
func TestSMTPSendFailures(t *testing.T) {
	refused := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		_ = l.Close()
		return addr
	}()
	tests := []struct {
		name      string
		be        *backend
		mode      serverMode
		url       func(addr string) string
		permanent bool
	}{
		{
			name: "5xx on RCPT",
			be: &backend{rcptErr: map[string]error{"ase@example.org": &smtp.SMTPError{
				Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}}},
			url:       func(a string) string { return "smtp://" + a + "?tls=none" },
			permanent: true,
		},
		{
			name: "4xx on RCPT",
			be: &backend{rcptErr: map[string]error{"ase@example.org": &smtp.SMTPError{
				Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}}},
			url: func(a string) string { return "smtp://" + a + "?tls=none" },
		},
		{
			name: "connection refused",
			url:  func(string) string { return "smtp://" + refused + "?tls=none" },
		},
		{
			name: "STARTTLS required but not offered",
			be:   &backend{},
			url:  func(a string) string { return "smtp://" + a },
		},
		{
			name: "self-signed certificate not trusted",
			be:   &backend{},
			mode: modeSTARTTLS,
			url:  func(a string) string { return "smtp://" + a },
		},
		{
			name: "wrong password",
			be:   &backend{user: "dsar", password: "right"},
			mode: modeSTARTTLS,
			url:  func(a string) string { return "smtp://dsar:wrong@" + a + "?insecure_skip_verify=true" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := ""
			if tt.be != nil {
				addr = startServer(t, tt.be, tt.mode)
			}
			err := newSMTP(t, tt.url(addr)).Send(t.Context(), testMessage("outbox-5@dsar.example"))
			if err == nil {
				t.Fatal("Send succeeded")
			}
			t.Log(err)
			if got := IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v; err = %v", got, tt.permanent, err)
			}
			if !strings.Contains(err.Error(), "outbox-5@dsar.example") {
				t.Errorf("error does not name the message: %v", err)
			}
			if strings.Contains(err.Error(), "ase@example.org") {
				t.Errorf("error contains the recipient's address: %v", err)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error contains the password: %v", err)
			}
			if tt.be != nil && len(tt.be.messages()) != 0 {
				t.Errorf("server stored a message")
			}
		})
	}
}

func TestSMTPSendInvalidMessage(t *testing.T) {
	// Nothing listens here; an invalid message must fail before dialling.
	s := newSMTP(t, "smtp://127.0.0.1:1?tls=none")
	tests := map[string]func(*Message){
		"no ID":          func(m *Message) { m.ID = "" },
		"ID in brackets": func(m *Message) { m.ID = "<a@b>" },
		"ID without @":   func(m *Message) { m.ID = "outbox-1" },
		"ID with space":  func(m *Message) { m.ID = "a b@c" },
		"no recipient":   func(m *Message) { m.To = nil },
		"bad recipient":  func(m *Message) { m.To = []string{"not an address"} },
		"bad sender":     func(m *Message) { m.From = "nobody" },
		"no sender":      func(m *Message) { m.From = "" },
		"no text":        func(m *Message) { m.Text = "" },
	}
	for name, modify := range tests {
		t.Run(name, func(t *testing.T) {
			m := testMessage("outbox-6@dsar.example")
			modify(m)
			err := s.Send(t.Context(), m)
			if !IsPermanent(err) || !errors.Is(err, ErrInvalidMessage) {
				t.Errorf("err = %v; want a permanent ErrInvalidMessage", err)
			}
		})
	}
	if err := s.Send(t.Context(), nil); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("nil message: err = %v", err)
	}
}

func TestSMTPSendCancel(t *testing.T) {
	be := &backend{dataStarted: make(chan struct{}), dataRelease: make(chan struct{})}
	addr := startServer(t, be, modePlain)
	t.Cleanup(func() { close(be.dataRelease) }) // runs before the server closes
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- newSMTP(t, "smtp://"+addr+"?tls=none").Send(ctx, testMessage("outbox-7@dsar.example")) }()
	<-be.dataStarted // the server holds the DATA reply back
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled in the chain", err)
	}
	if IsPermanent(err) {
		t.Errorf("a cancellation is not permanent: %v", err)
	}
}

func TestSMTPSendCancelledBefore(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := newSMTP(t, "smtp://127.0.0.1:1?tls=none").Send(ctx, testMessage("outbox-8@dsar.example"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestIsPermanentNil(t *testing.T) {
	if IsPermanent(nil) || IsPermanent(errors.New("x")) || IsPermanent(context.Canceled) {
		t.Error("IsPermanent true for an unmarked error")
	}
}

func TestParseSMTPURL(t *testing.T) {
	def := func(mod func(*smtpConfig)) smtpConfig {
		c := smtpConfig{host: "mail.example.com", port: 587, tlsPolicy: gomail.TLSMandatory, timeout: defaultTimeout}
		mod(&c)
		return c
	}
	good := []struct {
		raw  string
		want smtpConfig
	}{
		{"smtp://mail.example.com", def(func(*smtpConfig) {})},
		{"  smtp://mail.example.com/  ", def(func(*smtpConfig) {})},
		{"SMTP://mail.example.com:2525?tls=opportunistic", def(func(c *smtpConfig) {
			c.port, c.tlsPolicy = 2525, gomail.TLSOpportunistic
		})},
		{"smtp://localhost:1025?tls=none", def(func(c *smtpConfig) {
			c.host, c.port, c.tlsPolicy = "localhost", 1025, gomail.NoTLS
		})},
		{"smtp://user:pw@127.0.0.1:25?tls=none", def(func(c *smtpConfig) {
			c.host, c.port, c.tlsPolicy = "127.0.0.1", 25, gomail.NoTLS
			c.user, c.password, c.auth = "user", "pw", gomail.SMTPAuthPlain
		})},
		{"smtp://user:pw@mail.example.com?tls=none&auth=cram-md5", def(func(c *smtpConfig) {
			c.tlsPolicy, c.user, c.password, c.auth = gomail.NoTLS, "user", "pw", gomail.SMTPAuthCramMD5
		})},
		{"smtp://[::1]:25?tls=mandatory", def(func(c *smtpConfig) { c.host, c.port = "::1", 25 })},
		{"smtps://mail.example.com", def(func(c *smtpConfig) { c.port, c.implicitTLS = 465, true })},
		{"smtps://user%40example.com:p%40ss%3Aw%2Fo%3Frd%23@mail.example.com:4650?insecure_skip_verify=true&auth=LOGIN&timeout=5s",
			def(func(c *smtpConfig) {
				c.port, c.implicitTLS, c.insecure, c.timeout = 4650, true, true, 5*time.Second
				c.user, c.password, c.auth = "user@example.com", "p@ss:w/o?rd#", gomail.SMTPAuthLogin
			})},
		{"smtp://user@mail.example.com?insecure_skip_verify=false", def(func(c *smtpConfig) {
			c.user, c.auth = "user", gomail.SMTPAuthPlain
		})},
	}
	for _, tt := range good {
		got, err := parseSMTPURL(tt.raw)
		if err != nil {
			t.Errorf("parseSMTPURL(%q): %v", tt.raw, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(smtpConfig{})); diff != "" {
			t.Errorf("parseSMTPURL(%q) (-want +got):\n%s", tt.raw, diff)
		}
	}

	// The password is "s3cr3t" wherever there is one; no error may contain
	// it or a piece of it.
	bad := []struct {
		raw  string
		want string // in the error
	}{
		{"", "empty"},
		{"mail.example.com", "no scheme"},
		{"http://mail.example.com", `scheme "http" not supported`},
		{"smtp:mail.example.com", "two slashes"},
		{"smtp://", "no host"},
		{"smtp://:25", "no host"},
		{"smtp://mail.example.com:0", "out of range"},
		{"smtp://mail.example.com:99999", "out of range"},
		{"smtp://mail.example.com:abc", "invalid port"},
		{"smtp://mail.example.com/inbox", "path"},
		{"smtp://::", "neither a host name nor an IP address"},
		{"smtp://mail..example.com", "neither"},
		{"smtp://mail!.example.com", "neither"},
		{"smtp://user:s3cr3t@s3cr3t!", "host (not shown"},
		{"smtp://mail.example.com?tls=bogus", `tls="bogus"`},
		{"smtps://mail.example.com?tls=none", "smtp:// only"},
		{"smtp://mail.example.com?tsl=none", `unknown option "tsl"`},
		{"smtp://mail.example.com?tls=none&tls=none", "2 times"},
		{"smtp://mail.example.com?auth=plain", "needs a user"},
		{"smtp://mail.example.com?timeout=0s", "timeout"},
		{"smtp://mail.example.com?insecure_skip_verify=yes please", "insecure_skip_verify"},
		{"smtp://mail.example.com?tls=none;x", "query"},
		{"smtp://:s3cr3t@mail.example.com", "password without a user"},
		{"smtp://user:s3cr3t@mail.example.com?tls=none", "clear text"},
		{"smtp://user:s3cr3t@mail.example.com?tls=none&auth=login", "clear text"},
		{"smtp://user:s3cr3t@mail.example.com?auth=s3cr3t", "option auth"},
		{"smtp://user:s3cr3t@mail.example.com?s3cr3t=1", "unknown option"},
		{"smtp://user:s3cr3t@mail.example.com?insecure_skip_verify=s3cr3t", "insecure_skip_verify"},
		{"smtp://user:s3cr3t@mail.example.com?timeout=s3cr3t", "timeout"},
		{"smtp://user:s3cr3t@mail.example.com:bad", "malformed"},
		{"smtp://user:s3%zzcr3t@mail.example.com", "malformed"},
		{"smtp://user:s3cr3t@mail.example.com/s3cr3t", "path"},
		{"smtp://user:s3c#r3t@mail.example.com", "fragment"},
		{"smtp://user:s3?cr3t@mail.example.com", "malformed"},
		{"smtp://user:s3/cr3t@mail.example.com", "malformed"},
		{"user:s3cr3t@mail.example.com", "scheme (not shown"},
		{"ftp://user:s3cr3t@mail.example.com", "scheme (not shown"},
		{"smtp://user:s3cr3t@", "no host"},
	}
	for _, tt := range bad {
		_, err := parseSMTPURL(tt.raw)
		if err == nil {
			t.Errorf("parseSMTPURL(%q) succeeded", tt.raw)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) {
			t.Errorf("parseSMTPURL(%q) = %q, want it to mention %q", tt.raw, msg, tt.want)
		}
		if !strings.HasPrefix(msg, errSMTPURL) {
			t.Errorf("parseSMTPURL(%q) = %q, want prefix %q", tt.raw, msg, errSMTPURL)
		}
		for _, piece := range []string{"s3cr3t", "cr3t", "s3c", "r3t"} {
			if strings.Contains(msg, piece) {
				t.Errorf("parseSMTPURL(%q) = %q: contains %q from the password", tt.raw, msg, piece)
			}
		}
	}
}

func FuzzParseSMTPURL(f *testing.F) {
	for _, s := range []string{"smtp://u:s3cr3t@h:25?tls=none", "smtps://h", "smtp://u:s3cr3t@h?auth=x", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := parseSMTPURL(raw)
		if err != nil {
			if cfg != (smtpConfig{}) {
				t.Fatal("config returned with an error")
			}
			return
		}
		if cfg.host == "" || cfg.port < 1 || cfg.port > 65535 || cfg.timeout <= 0 {
			t.Fatalf("bad config %+v from %q", cfg, raw)
		}
		// The printed form parses back to the same configuration, with
		// the password replaced.
		printed := (&SMTP{cfg: cfg}).String()
		back, err := parseSMTPURL(printed)
		if err != nil {
			t.Fatalf("String() = %q of %q does not parse: %v", printed, raw, err)
		}
		if cfg.user != "" && back.password != "xxxxx" {
			t.Fatalf("String() = %q of %q shows the password", printed, raw)
		}
		back.password = cfg.password
		if back != cfg {
			t.Fatalf("String() = %q of %q parses to %+v, want %+v", printed, raw, back, cfg)
		}
	})
}

func TestSMTPString(t *testing.T) {
	s := newSMTP(t, "smtps://dsar%40eksempel.no:s3cr3t@mail.example.com?insecure_skip_verify=true")
	got := s.String()
	want := "smtps://dsar%40eksempel.no:xxxxx@mail.example.com:465?auth=plain&insecure_skip_verify=true"
	if got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	// The printed form parses back to the same configuration, password aside.
	back, err := NewSMTP(got)
	if err != nil {
		t.Fatal(err)
	}
	back.cfg.password = s.cfg.password
	if !cmp.Equal(s.cfg, back.cfg, cmp.AllowUnexported(smtpConfig{})) {
		t.Errorf("String does not round-trip: %+v vs %+v", s.cfg, back.cfg)
	}
}
