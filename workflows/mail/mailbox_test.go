package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMailboxSend(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mailbox", "out")
	b, err := NewMailbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		t.Fatalf("mailbox directory not created: %v", err)
	}
	m := testMessage("outbox-123@dsar.example")
	if err := b.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	path := b.Path(m.ID)
	if filepath.Base(path) != "outbox-123@dsar.example.eml" {
		t.Errorf("file name = %q", filepath.Base(path))
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkMIME(t, raw, m)
}

func TestMailboxIdempotent(t *testing.T) {
	b, err := NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("outbox-9@dsar.example")
	if err := b.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(b.Path(m.ID))
	if err != nil {
		t.Fatal(err)
	}

	// A retry, also concurrent ones, changes nothing.
	retry := *m
	retry.Subject = "changed"
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := b.Send(t.Context(), &retry); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	entries, err := os.ReadDir(b.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("mailbox holds %v, want exactly one file", names)
	}
	again, err := os.ReadFile(b.Path(m.ID))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Error("a second send of the same Message-ID changed the file")
	}

	// Another Message-ID is another file.
	if err := b.Send(t.Context(), testMessage("outbox-10@dsar.example")); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(b.Dir()); len(entries) != 2 {
		t.Errorf("mailbox holds %d files, want 2", len(entries))
	}
}

// TestMailboxMatchesSMTP checks that the mailbox keeps exactly the bytes that
// go over the wire.
func TestMailboxMatchesSMTP(t *testing.T) {
	be := &backend{}
	addr := startServer(t, be, modePlain)
	m := testMessage("outbox-11@dsar.example")
	if err := newSMTP(t, "smtp://"+addr+"?tls=none").Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	b, err := NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(b.Path(m.ID))
	if err != nil {
		t.Fatal(err)
	}
	wire := be.messages()[0].Data
	if !bytes.Equal(file, wire) {
		t.Errorf("mailbox file differs from what SMTP sent\nfile:\n%s\nwire:\n%s", file, wire)
	}
}

func TestMailboxInvalidMessage(t *testing.T) {
	b, err := NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := testMessage("../../etc/passwd")
	err = b.Send(t.Context(), m)
	if !IsPermanent(err) || !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("err = %v, want a permanent ErrInvalidMessage", err)
	}
	if entries, _ := os.ReadDir(b.Dir()); len(entries) != 0 {
		t.Errorf("mailbox holds %d files, want none", len(entries))
	}
}

func TestMailboxCancelled(t *testing.T) {
	b, err := NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Send(ctx, testMessage("outbox-12@dsar.example")); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNewMailboxErrors(t *testing.T) {
	if _, err := NewMailbox(""); err == nil {
		t.Error("NewMailbox(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMailbox(filepath.Join(file, "sub")); err == nil {
		t.Error("NewMailbox under a file succeeded")
	}
}

func TestFileName(t *testing.T) {
	tests := []struct {
		id   string
		want string // "" to only check the properties below
	}{
		{"outbox-123@dsar.example", "outbox-123@dsar.example.eml"},
		{"a+b=c_d@x.y", "a+b=c_d@x.y.eml"},
		{"Outbox-1@Dsar.Example", ""},
		{"a/b@x", ""},
		{"a_b@x", "a_b@x.eml"},
		{".hidden@x", ""},
		{"../../etc/passwd@x", ""},
		{"a\\b@x", ""},
		{"a:b*c?d@x", ""},
		{strings.Repeat("x", 300) + "@y", ""},
		{"", ""},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := FileName(tt.id)
		if tt.want != "" && got != tt.want {
			t.Errorf("FileName(%q) = %q, want %q", tt.id, got, tt.want)
		}
		if strings.HasPrefix(got, ".") || strings.ContainsAny(got, `/\:*?"<>|`) || !strings.HasSuffix(got, ".eml") {
			t.Errorf("FileName(%q) = %q: not a safe file name", tt.id, got)
		}
		if len(got) > 200 {
			t.Errorf("FileName(%q) is %d bytes long", tt.id, len(got))
		}
		if other, ok := seen[strings.ToLower(got)]; ok {
			t.Errorf("FileName(%q) = FileName(%q) = %q", tt.id, other, got)
		}
		seen[strings.ToLower(got)] = tt.id
	}
	if FileName("A@x") == FileName("a@x") {
		t.Error("IDs differing in case share a file")
	}
}

func TestMailboxListAndRead(t *testing.T) {
	box, err := NewMailbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, subj := range []string{"Første", "Second"} {
		m := &Message{ID: fmt.Sprintf("m%d@dsar.test", i), From: "NTE <dsar@dsar.test>", To: []string{"kari@example.no"},
			Subject: subj, Text: "Koden din er 12345" + fmt.Sprint(i), HTML: "<p>x</p>", Date: time.Date(2025, 3, 5, 9, i, 0, 0, time.UTC)}
		if err := box.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	list, err := box.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Subject != "Second" || list[1].Subject != "Første" || list[1].To != "<kari@example.no>" && list[1].To != "kari@example.no" {
		t.Fatalf("list: %+v", list)
	}
	got, err := box.Read(list[1].Name)
	if err != nil || !strings.Contains(got.Text, "Koden din er 123450") {
		t.Fatalf("read: %+v %v", got, err)
	}
	if _, err := box.Read("../secret.key"); err == nil {
		t.Error("read outside the mailbox")
	}
}
