package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/workflows/connector/http/fakesystem"
)

// sampleSystemSecretEnv names the variable that holds the sample system's
// signing secret; docs/examples/sample-http.yaml names the same.
const sampleSystemSecretEnv = "DSAR_SAMPLE_SYSTEM_SECRET"

// sampleSystem runs a connected system that takes the HTTP connector's
// tasks, for a newcomer to watch a case fan out end to end
// (docs/connectors.md, "HTTP connector"):
//
//	dsar sample-system [--addr 127.0.0.1:8091] [--mode ok|callback|poll|fail|...]
//	dsar sample-system --new-secret
func (m *Main) sampleSystem(ctx context.Context, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("sample-system", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	addr := fs.String("addr", "127.0.0.1:8091", "address to listen on; the endpoint is http://ADDR/dsar")
	mode := fs.String("mode", string(fakesystem.ModeOK), "how to answer: ok, callback, poll, data_url, fail, rate_limit, slow, close or garbage")
	newSecret := fs.Bool("new-secret", false, "print a new secret for "+sampleSystemSecretEnv+" and stop")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("sample-system: unexpected argument %q", fs.Arg(0))}
	}
	if *newSecret {
		fmt.Fprintln(m.Stdout, dsar.NewWebhookSecret())
		return nil
	}
	switch fakesystem.Mode(*mode) {
	case fakesystem.ModeOK, fakesystem.ModeCallback, fakesystem.ModePoll, fakesystem.ModeDataURL, fakesystem.ModeFail, fakesystem.ModeRateLimit,
		fakesystem.ModeSlow, fakesystem.ModeClose, fakesystem.ModeGarbage:
	default:
		return usageError{fmt.Sprintf("sample-system: unknown --mode %q", *mode)}
	}
	how := "make one and give the same value to the service and to the sample system:\n" +
		"  export " + sampleSystemSecretEnv + "=$(go run ./cmd/dsar sample-system --new-secret)"
	raw := strings.TrimSpace(m.Getenv(sampleSystemSecretEnv))
	if raw == "" {
		return usageError{sampleSystemSecretEnv + " is not set; " + how}
	}
	secret, err := dsar.ParseWebhookSecret(raw)
	if err != nil {
		return usageError{sampleSystemSecretEnv + ": " + err.Error() + "; " + how}
	}
	sys := fakesystem.New(secret, m.Clock, log)
	sys.SetMode(fakesystem.Mode(*mode))
	defer sys.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sys, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(m.Stdout, "sample system taking tasks at http://%s%s (mode %s); stop with Ctrl-C\n", ln.Addr(), sys.Path, *mode)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sys.Close() // ends the slow answers
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
