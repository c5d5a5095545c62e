// Package mailtest runs a real SMTP server on loopback for tests
// (github.com/emersion/go-smtp): the "fake SMTP catcher" that every mail
// the service sends in a test goes through, so that tests read the MIME
// that really arrived.
package mailtest

import (
	"bytes"
	"io"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message as the server received it.
type Message struct {
	From   string
	To     []string
	Raw    []byte
	Header mail.Header
}

// Server is a running SMTP catcher.
type Server struct {
	srv     *smtp.Server
	addr    string
	mu      sync.Mutex
	msgs    []Message
	arrived chan struct{} // receives one value per message
	held    chan struct{} // while not nil, DATA waits for it to close
	started chan struct{} // receives one value when a DATA begins
}

// Start starts a catcher on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{arrived: make(chan struct{}, 10000), started: make(chan struct{}, 10000)}
	s.srv = smtp.NewServer(backend{s})
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// URL returns the DSAR_SMTP_URL of the catcher (plain SMTP on loopback).
func (s *Server) URL() string { return "smtp://" + s.addr + "?tls=none" }

// Messages returns every message received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait blocks until n messages have arrived in all, or fails the test after
// the timeout.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if msgs := s.Messages(); len(msgs) >= n {
			return msgs
		}
		select {
		case <-s.arrived:
		case <-deadline.C:
			t.Fatalf("waited %s for %d mails, got %d", timeout, n, len(s.Messages()))
		}
	}
}

// Hold makes every message wait in DATA until Release, to test what happens
// to a mail in flight.
func (s *Server) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = make(chan struct{})
}

// Release lets held messages through.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held != nil {
		close(s.held)
		s.held = nil
	}
}

// Started blocks until a message has begun its DATA, or fails the test.
func (s *Server) Started(t testing.TB, timeout time.Duration) {
	t.Helper()
	select {
	case <-s.started:
	case <-time.After(timeout):
		t.Fatalf("no mail began within %s", timeout)
	}
}

type backend struct{ s *Server }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Server
	from string
	to   []string
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error { x.from = from; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error   { x.to = append(x.to, to); return nil }
func (x *session) Reset()                                      { x.from, x.to = "", nil }
func (x *session) Logout() error                               { return nil }

func (x *session) Data(r io.Reader) error {
	x.s.started <- struct{}{}
	x.s.mu.Lock()
	held := x.s.held
	x.s.mu.Unlock()
	if held != nil {
		<-held
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Message{From: x.from, To: x.to, Raw: raw, Header: m.Header})
	x.s.mu.Unlock()
	x.s.arrived <- struct{}{}
	return nil
}
