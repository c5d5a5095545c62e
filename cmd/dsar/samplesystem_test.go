package main

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector"
	"github.com/dsar-project/dsar/workflows/connector/connectortest"
	httpconn "github.com/dsar-project/dsar/workflows/connector/http"
)

func TestSampleSystemNeedsASecret(t *testing.T) {
	e := env{"DSAR_DATA_DIR": t.TempDir()}
	code, _, stderr := run(t, e, "sample-system")
	if code != 2 || !strings.Contains(stderr, "DSAR_SAMPLE_SYSTEM_SECRET is not set") || !strings.Contains(stderr, "--new-secret") {
		t.Errorf("without a secret: %d %q", code, stderr)
	}
	e[sampleSystemSecretEnv] = "not-a-secret"
	if code, _, stderr = run(t, e, "sample-system"); code != 2 || !strings.Contains(stderr, "whsec_") {
		t.Errorf("with a bad secret: %d %q", code, stderr)
	}
	code, stdout, _ := run(t, e, "sample-system", "--new-secret")
	if _, err := dsar.ParseWebhookSecret(stdout); code != 0 || err != nil {
		t.Errorf("--new-secret: %d %q (%v)", code, stdout, err)
	}
}

// lineWriter hands each write to a channel.
type lineWriter chan string

func (w lineWriter) Write(p []byte) (int, error) {
	w <- string(p)
	return len(p), nil
}

// TestSampleSystemTakesATask starts the sample system, sends it a task
// through the HTTP connector and stops it.
func TestSampleSystemTakesATask(t *testing.T) {
	secret := dsar.NewWebhookSecret()
	t.Setenv("DSAR_TEST_SAMPLE_SECRET", secret)
	e := env{"DSAR_DATA_DIR": t.TempDir(), sampleSystemSecretEnv: secret}
	out := make(lineWriter, 10)
	var logs syncBuffer
	m := &Main{Getenv: e.get, Stdout: out, Stderr: &logs, Clock: dsar.SystemClock{}}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- m.Run(ctx, []string{"sample-system", "--addr", "127.0.0.1:0"}) }()
	var line string
	select {
	case line = <-out:
	case c := <-code:
		t.Fatalf("the sample system stopped with %d: %s", c, logs.String())
	}
	url := regexp.MustCompile(`http://\S+/dsar`).FindString(line)
	if url == "" {
		t.Fatalf("no URL in %q", line)
	}
	conn := httpconn.New(dsar.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	defer conn.Close()
	o := conn.Do(ctx, &connector.Order{Step: dsar.StepSend, TaskOrder: &dsar.TaskOrder{
		Task:       &dsar.Task{ID: "task-7", System: "sample", Action: dsar.ActionErase, Round: 1},
		Request:    &dsar.Request{Reference: "NTE-1", Type: dsar.TypeErasure, Deadline: time.Now(), Subject: dsar.Subject{Email: "kari@example.no"}},
		Controller: &dsar.Controller{Key: "nte"},
		Connector: &dsar.Connector{Kind: dsar.ConnectorHTTP, HTTP: &dsar.HTTPConnector{URL: url,
			Secret: dsar.Secret{Env: "DSAR_TEST_SAMPLE_SECRET"}, NoData: []int{404}}},
	}})
	if o.Kind != dsar.OutcomeDone || o.Count != 1 {
		t.Errorf("outcome %+v", o)
	}
	// An export's record arrives in the service's blobs (openBlobs).
	blobs, err := openBlobs(ctx, &Config{DataDir: e["DSAR_DATA_DIR"], Storage: "dir"}, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		t.Fatal(err)
	}
	o = conn.Do(ctx, &connector.Order{Step: dsar.StepSend, Blobs: blobs, TaskOrder: &dsar.TaskOrder{
		Task: &dsar.Task{ID: "task-8", RequestID: "case-8", System: "sample", Action: dsar.ActionExport, Round: 1,
			Categories: []string{"orders"}},
		Request:    &dsar.Request{Reference: "NTE-2", Type: dsar.TypeAccess, Deadline: time.Now(), Subject: dsar.Subject{Email: "kari@example.no"}},
		Controller: &dsar.Controller{Key: "nte"},
		Connector: &dsar.Connector{Kind: dsar.ConnectorHTTP, HTTP: &dsar.HTTPConnector{URL: url,
			Secret: dsar.Secret{Env: "DSAR_TEST_SAMPLE_SECRET"}, NoData: []int{404}}},
	}})
	records, err := connectortest.ReadExport(ctx, blobs, "case-8", "task-8")
	if o.Kind != dsar.OutcomeDone || o.Count != 1 || err != nil || len(records) != 1 || records[0].Category != "orders" ||
		string(records[0].Record) != `{"n":1,"task":"task-8"}` {
		t.Errorf("export: outcome %+v, records %v, %v", o, records, err)
	}
	cancel()
	if c := <-code; c != 0 {
		t.Errorf("exit code %d: %s", c, logs.String())
	}
	if l := logs.String(); !strings.Contains(l, "task=task-7 action=erase") || strings.Contains(l, "kari") {
		t.Errorf("the log does not name the task and action alone: %s", l)
	}
}
