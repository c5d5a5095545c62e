package workflows_test

import (
	"testing"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows"
)

// Every outbox kind has a handler with a task type of its own, which a
// worker routes its tasks to, and the failure counter counts exactly these
// types: a kind added without a handler, or a handler without its kind in
// dsar.OutboxKinds, fails here.
func TestEveryOutboxKindHasAHandler(t *testing.T) {
	mux := asynq.NewServeMux()
	(&workflows.Handlers{}).Register(mux)
	types := map[string]dsar.OutboxKind{}
	for _, k := range dsar.OutboxKinds {
		task, err := workflows.NewOutboxTask(&dsar.OutboxItem{ID: "x", Kind: k})
		if err != nil {
			t.Errorf("kind %s: %v", k, err)
			continue
		}
		if other, ok := types[task.Type()]; ok {
			t.Errorf("kinds %s and %s share the task type %s", other, k, task.Type())
		}
		types[task.Type()] = k
		if _, pattern := mux.Handler(task); pattern != task.Type() {
			t.Errorf("kind %s: no handler for its task type %s", k, task.Type())
		}
	}

	reg := prometheus.NewRegistry()
	if _, err := workflows.NewMetrics(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := map[string]bool{}
	for _, f := range mfs {
		if f.GetName() != "dsar_task_failures_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			typ := m.GetLabel()[0].GetValue()
			counted[typ] = true
			if _, ok := types[typ]; !ok {
				t.Errorf("a handler of task type %s has no kind in dsar.OutboxKinds", typ)
			}
		}
	}
	if len(counted) != len(types) {
		t.Errorf("failures counted for %d task types, want %d", len(counted), len(types))
	}
}
