// Package connector is the one small interface every way of reaching a
// connected system implements (http, sql, manual, vendormail, opendsr: one
// package each below this one), and what a connector is given.
package connector

import (
	"context"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dsar-project/dsar"
)

// Order is one step of a task for a connector to carry out: the task, the
// case and the system (dsar.TaskOrder), the step, and the service's URLs
// for a later answer.
type Order struct {
	*dsar.TaskOrder
	Step dsar.TaskStep
	// CallbackURL is where the system may answer the task later (its token
	// is in the URL); OpenDSRCallbackURL where an OpenDSR processor posts
	// the status of the task's request; ConfirmURL where a vendor confirms
	// it did the task.
	CallbackURL        string
	OpenDSRCallbackURL string
	ConfirmURL         string
	// Blobs keeps what an export task collects (StartExport); nil on a
	// worker given no storage, where exports fail.
	Blobs dsar.Blobs
}

// Connector carries out the steps of tasks in one kind of system. Do
// reports what happened as an outcome; it never returns an error, because
// every failure is an outcome the domain decides on (retry, fail). For
// StepCancel the outcome is ignored.
type Connector interface {
	Do(ctx context.Context, o *Order) dsar.TaskOutcome
}

// Set holds the connector of each kind a worker can reach.
type Set map[dsar.ConnectorKind]Connector

// Snippet is how much of a system's own text an answer keeps.
const Snippet = 200

// Answer returns a system's answer as the officers see it: "HTTP status",
// then the start of text (at most Snippet bytes) on one line, without
// control or direction characters, and with the subject's identities
// blanked in case the system echoes them.
func Answer(subject dsar.Subject, status int, text string) string {
	if len(text) > Snippet {
		text = text[:Snippet]
		for len(text) > 0 && !utf8.ValidString(text) {
			text = text[:len(text)-1]
		}
	}
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(text, ""))
	text = strings.Join(strings.Fields(Blank(text, subject.Email, subject.CustomerID, subject.Phone, subject.Name)), " ")
	if text == "" {
		return "HTTP " + strconv.Itoa(status)
	}
	return "HTTP " + strconv.Itoa(status) + ": " + text
}

// Blank replaces each of the values (of 3 characters or more: shorter ones
// tell nothing, and would garble the text) in s with "[subject]", ignoring
// case.
func Blank(s string, values ...string) string {
	for _, v := range values {
		if v = strings.TrimSpace(v); len(v) >= 3 {
			s = replaceFold(s, v, "[subject]")
		}
	}
	return s
}

// replaceFold replaces every occurrence of old in s, ignoring case.
func replaceFold(s, old, repl string) string {
	lower, lold := strings.ToLower(s), strings.ToLower(old)
	if len(lower) != len(s) || len(lold) != len(old) {
		return strings.ReplaceAll(s, old, repl) // case mapping changed lengths
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, lold)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, lower = s[i+len(old):], lower[i+len(old):]
	}
}
