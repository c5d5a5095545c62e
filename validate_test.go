package dsar_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
)

// fieldsOf returns the field → message key of an EINVALID error, nil for
// nil, and fails the test for anything else.
func fieldsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	if err == nil {
		return nil
	}
	var de *dsar.Error
	if !errors.As(err, &de) || de.Code != dsar.EINVALID {
		t.Fatalf("error %v, want an EINVALID *dsar.Error", err)
	}
	out := map[string]string{}
	for _, f := range de.Fields {
		out[f.Field] = f.Message
	}
	return out
}

func TestValidateText(t *testing.T) {
	const (
		control   = "field.control_characters"
		lineBreak = "field.line_break"
	)
	for _, tt := range []struct {
		name      string
		in        string
		multiLine bool
		want      string // the message key, "" when valid
	}{
		{"plain", "Kari Nordmann", false, ""},
		{"letters of other scripts", "Ærlig Åse Øvre, Jūratė, 李雷, مرحبا", false, ""},
		{"emoji", "🙂", false, ""},
		{"the replacement character itself", "a \uFFFD b", false, ""},
		{"marks that set the direction of one word", "abc \u200f\u200e", false, ""},
		{"empty", "", false, ""},
		{"NUL", "Kari\x00", false, control},
		{"NUL in multi-line text", "line\x00", true, control},
		{"BEL", "ding\a", true, control},
		{"ESC", "\x1b[31mred", true, control},
		{"DEL", "a\x7fb", true, control},
		{"C1 next line", "a\u0085b", true, control},
		{"C1 CSI", "a\u009bb", true, control},
		{"right-to-left override", "invoice\u202Efdp.exe", false, control},
		{"left-to-right embedding", "a\u202Ab", true, control},
		{"first isolate", "a\u2066b", true, control},
		{"pop isolate", "a\u2069b", true, control},
		{"not UTF-8", "caf\xe9", false, control},
		{"not UTF-8 in multi-line text", "caf\xe9\n", true, control},
		{"tab in one line", "a\tb", false, control},
		{"tab in multi-line text", "a\tb", true, ""},
		{"LF in one line", "a\nb", false, lineBreak},
		{"CRLF in one line", "a\r\nb", false, lineBreak},
		{"CR in one line", "a\rb", false, lineBreak},
		{"line separator in one line", "a\u2028b", false, lineBreak},
		{"LF in multi-line text", "a\nb\n", true, ""},
		{"CRLF in multi-line text", "a\r\nb\r\n", true, ""},
		{"a CR on its own in multi-line text", "a\rb", true, control},
		{"a CR at the end of multi-line text", "a\r", true, control},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := fieldsOf(t, dsar.ValidateText("f", tt.in, tt.multiLine, 100))
			var want map[string]string
			if tt.want != "" {
				want = map[string]string{"f": tt.want}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ValidateText(%q, multiLine %v) (-want +got):\n%s", tt.in, tt.multiLine, diff)
			}
			if dsar.PlainText(tt.in, tt.multiLine) != (tt.want == "") {
				t.Errorf("PlainText(%q, %v) = %v", tt.in, tt.multiLine, !(tt.want == ""))
			}
		})
	}
	// The length counts characters, not bytes.
	if err := dsar.ValidateText("f", strings.Repeat("ø", 10), false, 10); err != nil {
		t.Errorf("10 characters of at most 10: %v", err)
	}
	if got := fieldsOf(t, dsar.ValidateText("f", strings.Repeat("ø", 11), false, 10)); got["f"] != "field.too_long" {
		t.Errorf("11 characters of at most 10: %v", got)
	}
}

func TestValidateNewRequest(t *testing.T) {
	ctrls, err := dsar.DefaultControllers()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 4, 17, 8, 15, 0, 0, time.UTC)
	officer := dsar.Actor{ID: "user:1", Role: dsar.RoleOfficer, Controllers: []string{"nte"}}
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	valid := func() dsar.NewRequest {
		return dsar.NewRequest{Type: dsar.TypeAccess, Controller: "nte", Subject: dsar.Subject{Email: "kari@example.no"}}
	}
	for _, tt := range []struct {
		name   string
		actor  dsar.Actor
		change func(*dsar.NewRequest)
		want   map[string]string
	}{
		{"valid", dsar.ActorPublic, func(*dsar.NewRequest) {}, nil},
		{"received a year ago to the second", officer, func(in *dsar.NewRequest) { in.ReceivedAt = at("2024-04-17T08:15:00Z") }, nil},
		{"received a year and a second ago", officer, func(in *dsar.NewRequest) { in.ReceivedAt = at("2024-04-17T08:14:59Z") },
			map[string]string{"received_at": "field.received_too_old"}},
		{"received in 1999", officer, func(in *dsar.NewRequest) { in.ReceivedAt = at("1999-01-01T00:00:00Z") },
			map[string]string{"received_at": "field.received_too_old"}},
		{"received tomorrow", officer, func(in *dsar.NewRequest) { in.ReceivedAt = at("2025-04-18T08:15:00Z") },
			map[string]string{"received_at": "field.future"}},
		{"control characters everywhere", officer, func(in *dsar.NewRequest) {
			in.Subject = dsar.Subject{Email: "kari\x00@example.no", Name: "Kari\x00", Phone: "\a12345678", CustomerID: "\x1b[2J"}
			in.Details = "Innsyn\u202E"
			in.Verified, in.VerificationMethod = true, "Bank\u0085ID"
		}, map[string]string{
			"subject.email": "field.control_characters", "subject.name": "field.control_characters",
			"subject.phone": "field.control_characters", "subject.customer_id": "field.control_characters",
			"details": "field.control_characters", "verification_method": "field.control_characters",
		}},
		{"line breaks in single-line fields", officer, func(in *dsar.NewRequest) {
			in.Subject = dsar.Subject{Email: "kari@example.no\nBcc: x@example.com", Name: "Kari\nNordmann", Phone: "1\r\n2", CustomerID: "7\n0"}
			in.Verified, in.VerificationMethod = true, "Bank\nID"
		}, map[string]string{
			"subject.email": "field.line_break", "subject.name": "field.line_break", "subject.phone": "field.line_break",
			"subject.customer_id": "field.line_break", "verification_method": "field.line_break",
		}},
		{"lines, tabs and CRLF in the details", dsar.ActorPublic, func(in *dsar.NewRequest) { in.Details = "Hei,\r\n\r\n\tjeg vil ha innsyn.\n" }, nil},
		{"a line end around a name is white space", dsar.ActorPublic, func(in *dsar.NewRequest) { in.Subject.Name = "Kari Nordmann\r\n" }, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.change(&in)
			_, err := dsar.ValidateNewRequest(&in, tt.actor, ctrls, now)
			if diff := cmp.Diff(tt.want, fieldsOf(t, err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}

	// The text is normalised: names trimmed, the details' CRLF made LF.
	in := valid()
	in.Subject.Name, in.Details = " Kari Nordmann\r\n", "Hei,\r\nmitt navn.\r\n"
	if _, err := dsar.ValidateNewRequest(&in, dsar.ActorPublic, ctrls, now); err != nil {
		t.Fatal(err)
	}
	if in.Subject.Name != "Kari Nordmann" || in.Details != "Hei,\nmitt navn.\n" {
		t.Errorf("name %q, details %q", in.Subject.Name, in.Details)
	}
}

func TestValidateOfficersTexts(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want map[string]string
	}{
		{"a reason", dsar.ValidateReason("reason", "The subject sent 40 GB.\r\nIt takes time."), nil},
		{"a blank reason", dsar.ValidateReason("reason", " \r\n"), map[string]string{"reason": "field.required"}},
		{"a reason with NUL", dsar.ValidateReason("reason", "ok\x00"), map[string]string{"reason": "field.control_characters"}},
		{"a forward target with an override", dsar.ValidateReason("to", "Acme AS\u202Epost@acme.example"), map[string]string{"to": "field.control_characters"}},
		{"a fee text with ESC", dsar.ValidateReason("text", "NOK 200\x1b"), map[string]string{"text": "field.control_characters"}},
		{"a method", dsar.ValidateMethod("  Passport checked at the counter "), nil},
		{"a blank method", dsar.ValidateMethod(" "), map[string]string{"method": "field.required"}},
		{"a method of two lines", dsar.ValidateMethod("Passport\nchecked"), map[string]string{"method": "field.line_break"}},
		{"a method with BEL", dsar.ValidateMethod("Passport\a"), map[string]string{"method": "field.control_characters"}},
		{"a completion", dsar.ValidateCompletion(dsar.Decision{Summary: "Deleted.\r\nAll of it.", Kept: []dsar.Kept{{What: "Invoices", Why: "Bookkeeping Act § 13", Until: "2030-12-31"}}}), nil},
		{"a completion with bad kept items", dsar.ValidateCompletion(dsar.Decision{Summary: "Deleted\x00", Kept: []dsar.Kept{
			{What: "Invoices", Why: " "},
			{What: "Invoices\nand more", Why: "Law"},
			{What: "Logs", Why: "Law\u0090", Until: "soon"},
		}}), map[string]string{"summary": "field.control_characters", "kept.0": "field.required", "kept.1": "field.line_break",
			"kept.2": "field.control_characters", "kept.2.until": "field.date"}},
		{"a reply", dsar.ValidateReply("Her er passet mitt.\r\nHilsen Kari", nil), nil},
		{"a reply with a document only", dsar.ValidateReply("", &dsar.Document{Data: []byte("%PDF-1.7\n")}), nil},
		{"no reply", dsar.ValidateReply(" ", nil), map[string]string{"body": "field.required"}},
		{"a reply with NUL", dsar.ValidateReply("Hei\x00", nil), map[string]string{"body": "field.control_characters"}},
		{"a reply too long", dsar.ValidateReply(strings.Repeat("x", dsar.MaxDetailsLength+1), nil), map[string]string{"body": "field.too_long"}},
		{"a document of another type", dsar.ValidateReply("", &dsar.Document{FileName: "pass.pdf", ContentType: "application/pdf", Data: []byte("MZ\x90\x00")}),
			map[string]string{"document": "field.file_type"}},
		{"a document too large", dsar.ValidateReply("", &dsar.Document{Data: make([]byte, dsar.MaxDocumentSize+1)}),
			map[string]string{"document": "field.file_too_large"}},
		{"a search", dsar.ValidateRequestFilter(dsar.RequestFilter{Search: " 7KQ2-M9XD ", Assignee: dsar.Unassigned, Controller: []string{"nte"}}), nil},
		{"a search with NUL", dsar.ValidateRequestFilter(dsar.RequestFilter{Search: "\x00"}), map[string]string{"search": "field.control_characters"}},
		{"a search of two lines", dsar.ValidateRequestFilter(dsar.RequestFilter{Search: "a\nb"}), map[string]string{"search": "field.line_break"}},
		{"a search too long", dsar.ValidateRequestFilter(dsar.RequestFilter{Search: strings.Repeat("x", dsar.MaxEmailLength+1)}), map[string]string{"search": "field.too_long"}},
		{"an assignee and controllers with NUL", dsar.ValidateRequestFilter(dsar.RequestFilter{Assignee: "\x00", Controller: []string{"nte", "\x00", "\x00"}}),
			map[string]string{"assignee": "field.control_characters", "controller": "field.control_characters"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, fieldsOf(t, tt.err)); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

// ftyp builds the ftyp box that opens an ISO base media file.
func ftyp(major string, compatible ...string) []byte {
	b := make([]byte, 16, 16+4*len(compatible))
	copy(b[4:], "ftyp"+major+"\x00\x00\x00\x00")
	for _, c := range compatible {
		b = append(b, c...)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return append(b, "\x00\x00\x00\x08meta"...)
}

// Identity documents are told by their content: PDF, JPEG, PNG and HEIC
// (by the brands of the ftyp box), and nothing else, whatever they are called.
func TestDocumentType(t *testing.T) {
	for _, c := range []struct {
		name    string
		data    []byte
		ct, ext string
	}{
		{"pdf", []byte("%PDF-1.7\n%âãÏÓ\n"), "application/pdf", ".pdf"},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, "image/jpeg", ".jpg"},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), "image/png", ".png"},
		{"heic", ftyp("heic", "mif1", "heic"), "image/heic", ".heic"},
		{"heic of an iPhone burst", ftyp("hevc", "msf1", "hevc"), "image/heic", ".heic"},
		{"heic under the general brand", ftyp("mif1", "mif1", "heic"), "image/heic", ".heic"},
		{"avif", ftyp("avif", "mif1", "avif"), "", ""},
		{"avif under the general brand", ftyp("mif1", "mif1", "avif"), "", ""},
		{"mp4", ftyp("isom", "isom", "mp42"), "", ""},
		{"a heic brand beyond the box", append(ftyp("mif1")[:16:16], "heicheic"...), "", ""},
		{"a truncated box", ftyp("heic")[:12], "", ""},
		{"a windows program", []byte("MZ\x90\x00\x03"), "", ""},
		{"html", []byte("<!doctype html><script>"), "", ""},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "", ""},
		{"gif", []byte("GIF89a"), "", ""},
		{"a pdf without its version", []byte("%PDF"), "", ""},
		{"nothing", nil, "", ""},
	} {
		ct, ext, ok := dsar.DocumentType(c.data)
		if ct != c.ct || ext != c.ext || ok != (c.ct != "") {
			t.Errorf("%s: %q %q %v, want %q %q", c.name, ct, ext, ok, c.ct, c.ext)
		}
	}
}
