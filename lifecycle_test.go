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
	b, err := os.ReadFile("docs/lifecycle.md")
	if err != nil {
		t.Fatal(err)
	}
	edge := regexp.MustCompile(`(?m)^\s+([a-z_]+) --> ([a-z_]+)\s*$`)
	var drawn []string
	for _, m := range edge.FindAllStringSubmatch(string(b), -1) {
		drawn = append(drawn, m[1]+" -> "+m[2])
	}
	var code []string
	for from, tos := range dsar.Transitions {
		for _, to := range tos {
			code = append(code, string(from)+" -> "+string(to))
		}
	}
	slices.Sort(drawn)
	slices.Sort(code)
	if diff := cmp.Diff(code, drawn); diff != "" {
		t.Errorf("docs/lifecycle.md differs from dsar.Transitions (-code +docs):\n%s", diff)
	}
}

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
