package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store/storetest"
	"github.com/dsar-project/dsar/templates"
	"github.com/dsar-project/dsar/workflows/mail/mailtest"
)

// env is a test environment for Main: DSAR_* variables over an empty base.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a running
// server and the reads of a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// run runs one command to its end and returns the exit code and output.
func run(t *testing.T, e env, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncBuffer
	m := &Main{Getenv: e.get, Stdout: &out, Stderr: &errOut, Clock: dsar.SystemClock{}}
	code := m.Run(context.Background(), args)
	return code, out.String(), errOut.String()
}

// testEnv returns the variables of a service on a fresh test database (a
// Postgres schema under DSAR_TEST_DATABASE_URL, else an embedded file) and,
// when set, the test Redis.
func testEnv(t *testing.T) env {
	t.Helper()
	e := env{"DSAR_DATA_DIR": t.TempDir(), "DSAR_LOG_LEVEL": "warn"}
	if u := storetest.URL(t); strings.HasPrefix(u, "postgres") {
		e["DSAR_DATABASE_URL"] = u
		e["DSAR_SECRET_KEY"] = "a test secret of at least thirty-two bytes"
		e["DSAR_ENCRYPTION_KEY"] = newKeyText
	}
	if u := os.Getenv("DSAR_TEST_REDIS_URL"); u != "" {
		e["DSAR_REDIS_URL"] = u
	}
	return e
}

// migratedEnv is testEnv with the schema migrated, as an operator does
// before starting the service on Postgres.
func migratedEnv(t *testing.T) env {
	t.Helper()
	e := testEnv(t)
	if code, _, stderr := run(t, e, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	return e
}

func TestConfig(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "db")
	if err := os.WriteFile(secret, []byte("postgres://dsar:s3cret@db:5432/dsar\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(env{"DSAR_DATABASE_URL_FILE": secret, "DSAR_ADDR": ":9090", "DSAR_SMTP_URL": "smtp://u:pw@mx:587"}.get)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != "postgres://dsar:s3cret@db:5432/dsar" || cfg.BaseURL != "http://localhost:9090" ||
		cfg.MailFrom != "dsar@localhost" || cfg.ShutdownTimeout != 30*time.Second || cfg.DataDir != "dsar-data" {
		t.Errorf("config = %+v", cfg)
	}
	var out bytes.Buffer
	cfg.Print(&out)
	printed := out.String()
	if strings.Contains(printed, "s3cret") || strings.Contains(printed, ":pw@") {
		t.Errorf("config printed a secret:\n%s", printed)
	}
	for _, want := range []string{"DSAR_DATABASE_URL=postgres://dsar:xxxxx@db:5432/dsar", "DSAR_ADDR=:9090", "DSAR_SHUTDOWN_TIMEOUT=30s"} {
		if !strings.Contains(printed, want+"\n") {
			t.Errorf("config output lacks %q:\n%s", want, printed)
		}
	}

	_, err = LoadConfig(env{"DSAR_DATABASE_URL": "mysql://x", "DSAR_DATABASE_URL_FILE": secret,
		"DSAR_SHUTDOWN_TIMEOUT": "soon", "DSAR_LOG_LEVEL": "loud", "DSAR_WORKER_CONCURRENCY": "-1"}.get)
	for _, want := range []string{"DSAR_DATABASE_URL and DSAR_DATABASE_URL_FILE are both set", "DSAR_SHUTDOWN_TIMEOUT:", "DSAR_LOG_LEVEL:", "DSAR_WORKER_CONCURRENCY:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %q", err, want)
		}
	}
}

// Single sign-on needs its three settings together and an https issuer
// (http only on loopback, for a local provider).
func TestConfigOIDC(t *testing.T) {
	for _, c := range []struct {
		env  env
		want string
	}{
		{env{"DSAR_OIDC_ISSUER": "https://login.example/t"}, "set all three for single sign-on, or none"},
		{env{"DSAR_OIDC_ISSUER": "http://login.example/t", "DSAR_OIDC_CLIENT_ID": "dsar", "DSAR_OIDC_CLIENT_SECRET": "s"}, "DSAR_OIDC_ISSUER: want an https URL"},
		{env{"DSAR_OIDC_ISSUER": "http://127.0.0.1:5556/dex", "DSAR_OIDC_CLIENT_ID": "dsar", "DSAR_OIDC_CLIENT_SECRET": "s"}, ""},
		{env{"DSAR_OIDC_ISSUER": "https://login.microsoftonline.com/t/v2.0", "DSAR_OIDC_CLIENT_ID": "dsar", "DSAR_OIDC_CLIENT_SECRET": "s3cret-sso"}, ""},
	} {
		cfg, err := LoadConfig(c.env.get)
		if c.want == "" {
			if err != nil || cfg.OIDCName != "single sign-on" {
				t.Errorf("%v: %v, name %q", c.env, err, cfg.OIDCName)
				continue
			}
			var out bytes.Buffer
			cfg.Print(&out)
			if strings.Contains(out.String(), "s3cret-sso") {
				t.Errorf("the client secret was printed:\n%s", out.String())
			}
		} else if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.env, err, c.want)
		}
	}
}

// The README's configuration table lists exactly the variables the service reads.
func TestREADMEConfigurationTable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, o := range options {
		if !strings.Contains(readme, "| `"+o.name+"`") {
			t.Errorf("README's configuration table lacks %s", o.name)
		}
	}
}

// Every code block of the README is closed by a bare fence: a fence with
// text after it does not close the block, which then swallows the rest of
// the file. At the end no block is open.
func TestREADMECodeFencesClose(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	open := 0 // the line of the open fence, 0 outside a block
	for i, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "```") {
			continue
		}
		switch {
		case open == 0:
			open = i + 1
		case strings.TrimSpace(line) == "```":
			open = 0
		default:
			t.Errorf("README.md:%d: the block opened on line %d is not closed here: text follows the fence", i+1, open)
		}
	}
	if open != 0 {
		t.Errorf("README.md: the code block opened on line %d is never closed", open)
	}
}

func TestServeAndWorkerRefuseAStaleSchema(t *testing.T) {
	e := testEnv(t)
	e["DSAR_REDIS_URL"] = "redis://127.0.0.1:1/0" // never reached: the schema check comes first
	for _, cmd := range []string{"serve", "worker"} {
		code, _, stderr := run(t, e, cmd)
		if code != 1 || !strings.Contains(stderr, "run `dsar migrate` first") {
			t.Errorf("%s on an empty database: exit %d, %q", cmd, code, stderr)
		}
	}
	code, stdout, stderr := run(t, e, "migrate")
	if code != 0 || !strings.Contains(stdout, "schema at version ") || strings.Contains(stdout, "(0 migrations") {
		t.Fatalf("migrate: exit %d, %q %q", code, stdout, stderr)
	}
	if code, stdout, _ = run(t, e, "migrate"); code != 0 || !strings.Contains(stdout, "0 migrations applied") {
		t.Errorf("second migrate: exit %d, %q", code, stdout)
	}
}

func TestServeNeedsARedisURL(t *testing.T) {
	e := testEnv(t)
	delete(e, "DSAR_REDIS_URL")
	run(t, e, "migrate")
	code, _, stderr := run(t, e, "serve")
	if code != 1 || !strings.Contains(stderr, "DSAR_REDIS_URL is required") {
		t.Errorf("serve without Redis: exit %d, %q", code, stderr)
	}
}

func TestAPIKeyCommands(t *testing.T) {
	e := migratedEnv(t)
	code, out, stderr := run(t, e, "apikey", "create", "--name", "crm", "--role", "system", "--controller", "nte", "--controller", "proviso")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if !strings.HasPrefix(secret, "dsar_") || len(secret) < 40 {
		t.Errorf("last line %q is not a key", secret)
	}
	code, out, _ = run(t, e, "apikey", "list")
	if code != 0 || !strings.Contains(out, "crm") || !strings.Contains(out, "nte,proviso") || strings.Contains(out, secret) {
		t.Errorf("list: exit %d:\n%s", code, out)
	}
	id := strings.Fields(strings.Split(out, "\n")[1])[0]
	if code, out, _ = run(t, e, "apikey", "revoke", id); code != 0 {
		t.Errorf("revoke: exit %d %s", code, out)
	}
	if code, _, stderr = run(t, e, "apikey", "revoke", id); code != 1 || !strings.Contains(stderr, "dsar: "+templates.T(dsar.LanguageEN, "error.not_found", nil)) {
		t.Errorf("second revoke: exit %d %s", code, stderr)
	}
	code, _, stderr = run(t, e, "apikey", "create", "--name", "x", "--role", "boss", "--controller", "acme", "--scopes", "requests:create,everything")
	if code != 2 || !strings.Contains(stderr, "--role") || !strings.Contains(stderr, "acme") || !strings.Contains(stderr, "--scopes: Choose one of: requests:create,") {
		t.Errorf("bad create: exit %d %q", code, stderr)
	}
	// A key with scopes lists them; one without is limited by its role alone.
	code, out, stderr = run(t, e, "apikey", "create", "--name", "portal", "--role", "system", "--controller", "nte", "--scopes", "requests:read, requests:create")
	if code != 0 || !strings.Contains(out, "scopes requests:create,requests:read)") {
		t.Fatalf("create with scopes: exit %d: %s %s", code, out, stderr)
	}
	code, out, _ = run(t, e, "apikey", "list")
	if code != 0 || !strings.Contains(out, "requests:create,requests:read") || !strings.Contains(out, "(all of its role)") {
		t.Errorf("list with scopes: exit %d:\n%s", code, out)
	}
}

func TestUserCommands(t *testing.T) {
	e := migratedEnv(t)
	code, out, stderr := run(t, e, "user", "create", "--email", "kari@nte.no", "--name", "Kari Nordmann", "--role", "officer", "--controller", "nte")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	password := lines[len(lines)-1]
	if code != 0 || len(password) != 24 || !strings.Contains(out, "(Kari Nordmann <kari@nte.no>, role officer") {
		t.Fatalf("create: exit %d %q %s", code, out, stderr)
	}
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "list"}, 0, "kari@nte.no  officer  nte"},
		{[]string{"user", "list"}, 0, "Kari Nordmann"},
		{[]string{"user", "create", "--email", "ola@nte.no", "--name", "Ola\nNordmann", "--role", "admin"}, 2, "--name: "},
		{[]string{"user", "update", "--email", "kari@nte.no", "--role", "auditor", "--controller", "nte", "--controller", "proviso"}, 0, "role auditor, controllers nte,proviso; their sessions ended"},
		{[]string{"user", "disable", "--email", "kari@nte.no"}, 0, "disabled user"},
		{[]string{"user", "enable", "--email", "kari@nte.no"}, 0, "enabled user"},
		{[]string{"user", "reset-password", "--email", "kari@nte.no"}, 0, "the password is shown only now"},
		{[]string{"user", "disable", "--email", "nobody@nte.no"}, 2, "email"},
		{[]string{"user", "update", "--email", "kari@nte.no", "--role", "boss"}, 2, "role"},
		{[]string{"user", "disable"}, 2, "dsar user disable --email EMAIL"},
		{[]string{"user", "delete", "--email", "kari@nte.no"}, 2, `unknown user command "delete"`},
		// Errors are sentences from the message catalog, never codes.
		{[]string{"user", "create", "--email", "ola@nte.no", "--role", "officer"}, 2, "--controller: This field is required."},
		{[]string{"user", "create", "--email", "ola@nte.no", "--role", "officer", "--controller", "acme"}, 2,
			"--controller: There is no controller with the identifier acme."},
		{[]string{"user", "update", "--email", "kari@nte.no", "--role", "boss"}, 2, "--role: Choose one of: admin, officer, auditor."},
		{[]string{"user", "create", "--email", "kari@nte.no", "--role", "admin"}, 1, "dsar: "},
	}
	for _, s := range steps {
		code, out, stderr := run(t, e, s.args...)
		if code != s.code || !strings.Contains(out+stderr, s.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s%s", s.args, code, s.code, s.want, out, stderr)
		}
		for _, key := range []string{"field.", "error."} {
			if strings.Contains(stderr, key) {
				t.Errorf("%v: a message key instead of a sentence: %s", s.args, stderr)
			}
		}
	}
	code, out, _ = run(t, e, "user", "list")
	if code != 0 || !strings.Contains(out, "auditor  nte,proviso") || strings.Contains(out, "ola@nte.no") {
		t.Errorf("list after the changes:\n%s", out)
	}
	// Every change is in the administrators' audit chain, which verifies.
	if code, out, stderr := run(t, e, "audit", "verify"); code != 0 || !strings.Contains(out, "audit trail intact: 5 events") {
		t.Errorf("audit verify: exit %d %s %s", code, out, stderr)
	}
}

func TestInvalidControllersFileStopsTheStart(t *testing.T) {
	e := testEnv(t)
	path := filepath.Join(t.TempDir(), "controllers.yaml")
	if err := os.WriteFile(path, []byte("controllers:\n  - key: nte\n    time_zone: Europe/Olso\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e["DSAR_CONFIG"] = path
	code, _, stderr := run(t, e, "migrate")
	if code != 0 {
		t.Fatalf("migrate does not read controllers: exit %d %s", code, stderr)
	}
	code, _, stderr = run(t, e, "serve")
	if code != 1 || !strings.Contains(stderr, "controllers.yaml:3") || !strings.Contains(stderr, "time_zone") {
		t.Errorf("serve with a bad controllers file: exit %d %q", code, stderr)
	}
}

// TestSampleHTTPExampleLoads opens the service on the example controllers
// file of the http connector, named by DSAR_CONFIG as an operator would.
func TestSampleHTTPExampleLoads(t *testing.T) {
	e := migratedEnv(t)
	e["DSAR_CONFIG"] = filepath.Join("..", "..", "docs", "examples", "sample-http.yaml")
	cfg, err := LoadConfig(e.get)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), dsar.SystemClock{}, openOptions{autoMigrate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, ok := a.controllers.Get("sample-shop")
	if !ok {
		t.Fatalf("controllers %v", a.controllers.All())
	}
	if s, ok := c.System("shop"); !ok || s.Connector.Kind != dsar.ConnectorHTTP || s.Connector.HTTP.URL != "http://127.0.0.1:8091/dsar" ||
		s.Connector.HTTP.Secret != (dsar.Secret{Env: "DSAR_SAMPLE_SYSTEM_SECRET"}) {
		t.Errorf("sample system %+v", s)
	}
}

// running is a service started by Main.Run in the background.
type running struct {
	app    *App
	url    string
	cancel context.CancelFunc
	done   chan int
	stdout *syncBuffer
}

func start(t *testing.T, e env, args ...string) *running {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &running{url: "http://" + ln.Addr().String(), done: make(chan int, 1), stdout: &syncBuffer{}}
	e["DSAR_BASE_URL"] = r.url
	started := make(chan *App, 1)
	m := &Main{Getenv: e.get, Stdout: r.stdout, Stderr: io.Discard, Clock: dsar.SystemClock{},
		started: func(a *App) { a.listener = ln; started <- a }}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- m.Run(ctx, args) }()
	select {
	case a := <-started:
		r.app = a
		select {
		case <-a.ready:
		case code := <-r.done:
			t.Fatalf("exited with %d", code)
		}
	case code := <-r.done:
		t.Fatalf("exited with %d before starting", code)
	}
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// stop sends the equivalent of SIGTERM and waits for the exit code.
func (r *running) stop(t *testing.T, within time.Duration) int {
	t.Helper()
	r.cancel()
	select {
	case code := <-r.done:
		r.done <- code
		return code
	case <-time.After(within):
		t.Fatalf("did not stop within %s", within)
		return -1
	}
}

func post(t *testing.T, url, key string, body any) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// TestAllInOne runs the default command as a new user does, creates a key
// beside it with the admin command, submits a request and receives the
// acknowledgement mail, then stops it like SIGTERM does.
func TestAllInOne(t *testing.T) {
	e := migratedEnv(t)
	catcher := mailtest.Start(t)
	e["DSAR_SMTP_URL"] = catcher.URL()
	e["DSAR_DISPATCH_INTERVAL"] = "50ms"
	svc := start(t, e)
	if out := svc.stdout.String(); !strings.Contains(out, "dsar is running at "+svc.url) || !strings.Contains(out, "apikey create") ||
		!strings.Contains(out, "Officers sign in at: "+svc.url+"/signin") || !strings.Contains(out, "go run ./cmd/dsar user create --email") ||
		!strings.Contains(out, "--role admin\n") {
		t.Errorf("banner:\n%s", out)
	}
	code, out, stderr := run(t, e, "apikey", "create", "--name", "me", "--role", "admin")
	if code != 0 {
		t.Fatalf("apikey create beside the server: %d %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	key := lines[len(lines)-1]

	resp, body := post(t, svc.url+"/api/v1/requests", key, map[string]any{
		"type": "erasure", "controller": "proviso", "language": "en", "subject": map[string]any{"email": "ola@example.no"},
	})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %v", resp.StatusCode, body)
	}
	msgs := catcher.Wait(t, 1, 30*time.Second)
	if !strings.Contains(string(msgs[0].Raw), fmt.Sprint(body["reference"])) || msgs[0].To[0] != "ola@example.no" {
		t.Errorf("acknowledgement mail: to %v", msgs[0].To)
	}
	for _, path := range []string{"/healthz", "/readyz", "/openapi.yaml"} {
		r, err := http.Get(svc.url + path)
		if err != nil || r.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %v %v", path, r.StatusCode, err)
		}
		r.Body.Close()
	}
	if code := svc.stop(t, 15*time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
}

// TestShutdownDrains shows that stopping lets an HTTP request in progress
// and a mail being sent finish before the process exits.
func TestShutdownDrains(t *testing.T) {
	e := migratedEnv(t)
	catcher := mailtest.Start(t)
	e["DSAR_SMTP_URL"] = catcher.URL()
	e["DSAR_DISPATCH_INTERVAL"] = "50ms"
	e["DSAR_SHUTDOWN_TIMEOUT"] = "20s"
	svc := start(t, e)
	code, out, _ := run(t, e, "apikey", "create", "--name", "me", "--role", "admin")
	if code != 0 {
		t.Fatal("apikey create failed")
	}
	key := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])

	// A mail is being sent when the stop comes.
	catcher.Hold()
	if resp, _ := post(t, svc.url+"/api/v1/requests", key, map[string]any{
		"type": "access", "controller": "nte", "subject": map[string]any{"email": "a@example.no"}}); resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	catcher.Started(t, 30*time.Second)

	// And an HTTP request is in its handler, reading the body: with
	// "Expect: 100-continue" the server says "100 Continue" only when the
	// handler starts reading, so the test knows exactly when that is.
	body := `{"type":"access","controller":"nte","subject":{"email":"b@example.no"}}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(svc.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", key, len(body))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("waiting for 100 Continue: %q %v", line, err)
	}
	br.ReadString('\n') // the blank line after the interim response

	svc.cancel() // SIGTERM
	<-svc.app.draining
	fmt.Fprint(conn, body)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("the request in flight did not finish: %v %v", resp, err)
	}
	resp.Body.Close()
	catcher.Release()
	if code := svc.stop(t, 25*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if n := len(catcher.Messages()); n != 1 {
		t.Errorf("the mail in flight: %d delivered", n)
	}
}
