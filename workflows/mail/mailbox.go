package mail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Mailbox is the local mailbox of the embedded default mode: instead of
// sending, it keeps each message as an RFC 5322 .eml file in a directory,
// where the officers' pages can show it. The file holds exactly the bytes
// that SMTP would send. It is safe for concurrent use, also by several
// processes sharing the directory.
type Mailbox struct {
	dir string
}

var _ Sender = (*Mailbox)(nil)

// NewMailbox returns a mailbox in dir, creating the directory (readable by
// its owner only: mails hold personal data) if it does not exist.
func NewMailbox(dir string) (*Mailbox, error) {
	if dir == "" {
		return nil, errors.New("mail: mailbox: no directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: mailbox: %w", err)
	}
	return &Mailbox{dir: dir}, nil
}

// Dir returns the directory of the mailbox.
func (b *Mailbox) Dir() string { return b.dir }

// Path returns the file a message with the given Message-ID is kept in.
func (b *Mailbox) Path(messageID string) string {
	return filepath.Join(b.dir, FileName(messageID))
}

// Send writes m into the mailbox as <FileName(m.ID)>. The file appears
// whole or not at all (it is written to a temporary file, synced and renamed
// into place). Sending a message whose Message-ID is already in the mailbox
// does nothing: the first copy was delivered, just as a mail server would
// have delivered it once.
func (b *Mailbox) Send(ctx context.Context, m *Message) error {
	msg, err := m.build()
	if err != nil {
		return fmt.Errorf("mail: mailbox: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mail: mailbox: send %s: %w", m.ID, err)
	}
	path := b.Path(m.ID)
	if _, err := os.Lstat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("mail: mailbox: send %s: %w", m.ID, err)
	}

	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return fmt.Errorf("mail: mailbox: render %s: %w", m.ID, err)
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("mail: mailbox: send %s: %w", m.ID, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file next to path, syncs it and
// renames it to path, then syncs the directory so that the rename survives a
// crash.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-*.eml")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // not supported everywhere; the rename itself is atomic
		_ = d.Close()
	}
	return nil
}

// FileName returns the name of the .eml file of a Message-ID: the ID in
// lower case with every character other than letters, digits and "@._+=-"
// replaced by "_", and, when anything was changed or cut off, a hash of the
// whole ID added, so that two IDs never share a file (not even on a
// case-insensitive file system). It never starts with a dot.
func FileName(messageID string) string {
	const maxLen = 160
	var b strings.Builder
	changed := false
	for i := 0; i < len(messageID); i++ {
		c := messageID[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9',
			c == '@', c == '_', c == '+', c == '=', c == '-':
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			// Lower case, so that IDs differing only in case do not
			// share a file on a case-insensitive file system.
			b.WriteByte(c + 'a' - 'A')
			changed = true
		case c == '.' && i > 0:
			b.WriteByte(c)
		default:
			b.WriteByte('_')
			changed = true
		}
	}
	name := b.String()
	if len(name) > maxLen {
		name = name[:maxLen]
		changed = true
	}
	if changed || name == "" {
		sum := sha256.Sum256([]byte(messageID))
		name += "-" + hex.EncodeToString(sum[:8])
	}
	return name + ".eml"
}

// Stored is one message of the mailbox as read back.
type Stored struct {
	// Name is the file's name in the mailbox directory.
	Name    string
	Date    time.Time
	From    string
	To      string
	Subject string
	// Text is the plain-text part (filled by Read only).
	Text string
}

// List returns the messages in the mailbox, newest first, without bodies.
func (b *Mailbox) List() ([]Stored, error) {
	names, err := filepath.Glob(filepath.Join(b.dir, "*.eml"))
	if err != nil {
		return nil, err
	}
	out := make([]Stored, 0, len(names))
	for _, path := range names {
		s, err := b.read(filepath.Base(path), false)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b Stored) int { return b.Date.Compare(a.Date) })
	return out, nil
}

// Read returns one message of the mailbox with its plain-text part.
func (b *Mailbox) Read(name string) (*Stored, error) {
	if name != filepath.Base(name) || !strings.HasSuffix(name, ".eml") {
		return nil, os.ErrNotExist
	}
	return b.read(name, true)
}

func (b *Mailbox) read(name string, body bool) (*Stored, error) {
	f, err := os.Open(filepath.Join(b.dir, name))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := mail.ReadMessage(f)
	if err != nil {
		return nil, fmt.Errorf("mailbox %s: %w", name, err)
	}
	dec := new(mime.WordDecoder)
	header := func(k string) string {
		v, err := dec.DecodeHeader(m.Header.Get(k))
		if err != nil {
			return m.Header.Get(k)
		}
		return v
	}
	s := &Stored{Name: name, From: header("From"), To: header("To"), Subject: header("Subject")}
	s.Date, _ = m.Header.Date()
	if body {
		s.Text, err = plainPart(m)
	}
	return s, err
}

// plainPart returns the text/plain part of a message, decoded.
func plainPart(m *mail.Message) (string, error) {
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, err := io.ReadAll(m.Body)
		return string(b), err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(p)
			return string(b), err
		}
	}
}

// RemovePrefix deletes every message whose Message-ID starts with prefix
// and returns how many it deleted. The prefix must be made of the
// characters FileName keeps as they are (lower-case letters, digits and
// "@._+=-"), so that it is also the prefix of the files' names.
func (b *Mailbox) RemovePrefix(prefix string) (int, error) {
	if prefix == "" || FileName(prefix) != prefix+".eml" {
		return 0, fmt.Errorf("mail: mailbox: %q is not a plain Message-ID prefix", prefix)
	}
	names, err := filepath.Glob(filepath.Join(b.dir, "*.eml"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, path := range names {
		if !strings.HasPrefix(filepath.Base(path), prefix) {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}
