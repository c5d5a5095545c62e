package dsar_test

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dsar-project/dsar"
)

// The state diagram in docs/lifecycle.md draws exactly the transitions the
// domain allows.
func TestLifecycleDiagramMatchesTheCode(t *testing.T) {
	var code []string
	for from, tos := range dsar.Transitions {
		for _, to := range tos {
			code = append(code, string(from)+" -> "+string(to))
		}
	}
	if diff := cmp.Diff(sorted(code), diagramEdges(t, "docs/lifecycle.md")); diff != "" {
		t.Errorf("docs/lifecycle.md differs from dsar.Transitions (-code +docs):\n%s", diff)
	}
}

// The task lifecycle in docs/connectors.md draws exactly the task
// transitions the domain allows.
func TestTaskLifecycleDiagramMatchesTheCode(t *testing.T) {
	var code []string
	for from, tos := range dsar.TaskTransitions {
		for _, to := range tos {
			code = append(code, string(from)+" -> "+string(to))
		}
	}
	if diff := cmp.Diff(sorted(code), diagramEdges(t, "docs/connectors.md")); diff != "" {
		t.Errorf("docs/connectors.md differs from dsar.TaskTransitions (-code +docs):\n%s", diff)
	}
}

// diagramEdges returns the edges between named states of the mermaid state
// diagram in the file, sorted.
func diagramEdges(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	edge := regexp.MustCompile(`(?m)^\s+([a-z_]+) --> ([a-z_]+)\s*$`)
	var drawn []string
	for _, m := range edge.FindAllStringSubmatch(string(b), -1) {
		drawn = append(drawn, m[1]+" -> "+m[2])
	}
	return sorted(drawn)
}

func sorted(s []string) []string { slices.Sort(s); return s }

func TestTransitions(t *testing.T) {
	for _, s := range dsar.Statuses {
		if !s.Valid() {
			t.Errorf("%s is listed but has no transitions entry", s)
		}
		for _, to := range dsar.Transitions[s] {
			if !to.Valid() {
				t.Errorf("%s -> unknown status %s", s, to)
			}
		}
		if !s.Open() && len(dsar.Transitions[s]) > 1 {
			t.Errorf("closed status %s may go to %v", s, dsar.Transitions[s])
		}
	}
	tests := []struct {
		from, to dsar.Status
		ok       bool
	}{
		{dsar.StatusReceived, dsar.StatusInProgress, true},
		{dsar.StatusAwaitingSubject, dsar.StatusInProgress, true},
		{dsar.StatusCompleted, dsar.StatusInProgress, true},
		{dsar.StatusWithdrawn, dsar.StatusInProgress, false},
		{dsar.StatusReceived, dsar.StatusCompleted, false},
		{dsar.StatusExpiredUnverified, dsar.StatusReceived, false},
		{dsar.StatusInProgress, dsar.StatusExpiredUnverified, false},
	}
	for _, tt := range tests {
		if got := dsar.CanTransition(tt.from, tt.to); got != tt.ok {
			t.Errorf("CanTransition(%s, %s) = %v, want %v", tt.from, tt.to, got, tt.ok)
		}
	}
}
