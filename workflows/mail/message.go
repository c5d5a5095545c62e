package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one e-mail ready to be sent.
type Message struct {
	// ID is the Message-ID without angle brackets, such as
	// "outbox-123@dsar.example". It must stay the same across retries of the
	// same message: receivers use it to recognise duplicates, and Mailbox
	// names its file after it.
	ID string
	// From is the sender, as "Name <addr>" or a bare address.
	From string
	// To lists the recipients, each as "Name <addr>" or a bare address.
	To []string
	// ReplyTo is where a reply goes when it should not go to From, as
	// "Name <addr>" or a bare address; empty for none.
	ReplyTo string
	// Subject is the subject line; non-ASCII text is MIME-encoded.
	Subject string
	// Text is the plain-text body. It is required.
	Text string
	// HTML is the HTML body; when set, the message is multipart/alternative
	// with Text and HTML.
	HTML string
	// Date is the Date header. The zero time means the moment of sending;
	// set it (to when the outbox row was written, say) to keep retries
	// byte-for-byte identical.
	Date time.Time
}

// Sender delivers messages. Send must be safe to call again with the same
// message after a failure.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// ErrInvalidMessage is wrapped by the error of Send for a message that cannot
// be sent as it is (a missing ID or recipient, an unparsable address). Such
// errors are permanent.
var ErrInvalidMessage = errors.New("invalid message")

// permanentError marks a failure that sending the same message again cannot
// fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// permanent marks err as permanent.
func permanent(err error) error { return &permanentError{err: err} }

// IsPermanent reports whether err says that the message can never be
// delivered as it is, so that retrying is pointless: the SMTP server refused
// it with a 5xx reply to MAIL FROM, RCPT TO or DATA, or the message is
// invalid (ErrInvalidMessage). It reports false for nil and for everything
// that may pass later: connection failures, timeouts, 4xx replies, TLS
// problems, and failures to authenticate (a 5xx reply to AUTH is a problem of
// the configuration, not of the message, and the message should be retried
// once the configuration is fixed).
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// build validates m and turns it into a go-mail message. The MIME boundary is
// derived from the ID, so that the same message always produces the same
// bytes; go-mail allows a fixed boundary because the message has at most one
// multipart level (text and HTML alternatives, no attachments).
func (m *Message) build() (*gomail.Msg, error) {
	if err := m.validate(); err != nil {
		return nil, permanent(err)
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent(), gomail.WithBoundary(boundaryFor(m.ID)))
	if err := msg.From(m.From); err != nil {
		return nil, permanent(fmt.Errorf("%w: From: %v", ErrInvalidMessage, err))
	}
	if err := msg.To(m.To...); err != nil {
		return nil, permanent(fmt.Errorf("%w: To: %v", ErrInvalidMessage, err))
	}
	if m.ReplyTo != "" {
		if err := msg.ReplyTo(m.ReplyTo); err != nil {
			return nil, permanent(fmt.Errorf("%w: Reply-To: %v", ErrInvalidMessage, err))
		}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID)
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	msg.SetDateWithValue(date)
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// validate checks what go-mail does not.
func (m *Message) validate() error {
	if m == nil {
		return fmt.Errorf("%w: nil message", ErrInvalidMessage)
	}
	if err := checkMessageID(m.ID); err != nil {
		return err
	}
	if strings.TrimSpace(m.From) == "" {
		return fmt.Errorf("%w: no From address", ErrInvalidMessage)
	}
	if len(m.To) == 0 {
		return fmt.Errorf("%w: no recipients", ErrInvalidMessage)
	}
	if m.Text == "" {
		return fmt.Errorf("%w: no text body", ErrInvalidMessage)
	}
	return nil
}

// checkMessageID accepts an RFC 5322 msg-id without its angle brackets, in
// its common dot-atom form: left@right, both made of atext and dots.
func checkMessageID(id string) error {
	left, right, ok := strings.Cut(id, "@")
	switch {
	case id == "":
		return fmt.Errorf("%w: no Message-ID", ErrInvalidMessage)
	case len(id) > 250:
		return fmt.Errorf("%w: Message-ID longer than 250 characters", ErrInvalidMessage)
	case !ok || left == "" || right == "" || strings.Contains(right, "@"):
		return fmt.Errorf("%w: Message-ID %q is not of the form left@right", ErrInvalidMessage, id)
	}
	for _, c := range []byte(id) {
		if c != '@' && c != '.' && !isAtext(c) {
			return fmt.Errorf("%w: Message-ID %q contains %q", ErrInvalidMessage, id, c)
		}
	}
	return nil
}

// isAtext reports whether c is an RFC 5322 atext character.
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// boundaryFor returns a MIME boundary derived from the Message-ID. It is as
// unlikely to occur in a body as a random one.
func boundaryFor(id string) string {
	sum := sha256.Sum256([]byte("dsar-mime-boundary\x00" + id))
	return "dsar-" + hex.EncodeToString(sum[:16])
}
