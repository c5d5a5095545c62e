package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/api"
	"github.com/dsar-project/dsar/store"
)

// BenchmarkIntake runs POST /api/v1/requests through the real HTTP handler
// (echo, API-key authentication, validation, store.Requests.Create) on a
// PostgreSQL database, without the network in between and without a rate
// limiter, so that a CPU profile shows the service's own share of an
// intake:
//
//	createdb dsar_profile
//	DSAR_BENCH_DATABASE_URL='postgres://postgres@127.0.0.1:5432/dsar_profile?sslmode=disable' \
//	  go test ./cmd/loadgen -run '^$' -bench Intake -benchtime 20s -cpu 2 \
//	  -cpuprofile /tmp/intake.cpu && go tool pprof -top -cum cmd/loadgen/loadgen.test /tmp/intake.cpu
//
// The database must be a scratch one: the benchmark migrates it and adds
// rows. It runs 8 goroutines per -cpu: 16 concurrent requests with -cpu 2.
func BenchmarkIntake(b *testing.B) {
	url := os.Getenv("DSAR_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("DSAR_BENCH_DATABASE_URL is not set (a scratch PostgreSQL database)")
	}
	ctx := context.Background()
	ctrls, err := dsar.DefaultControllers()
	if err != nil {
		b.Fatal(err)
	}
	db, err := store.Open(ctx, url, dsar.SystemClock{}, ctrls)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if db.Keyring, err = dsar.NewKeyring([]byte("loadgen benchmark secret, not for production use")); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	keys := store.NewAPIKeys(db)
	_, secret, err := keys.Create(ctx, "bench", dsar.RoleAdmin, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := api.New(api.Config{
		Requests: store.NewRequests(db), APIKeys: keys, Controllers: ctrls, Clock: dsar.SystemClock{},
		Log: slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		b.Fatal(err)
	}
	bodies := newBodyGen([]string{"nte"}, "bench")
	b.SetParallelism(8) // with -cpu 2: 16 concurrent requests, like bench.sh
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/requests", bytes.NewReader(bodies.next()))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+secret)
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Errorf("HTTP %d: %s", rec.Code, rec.Body.String())
				return
			}
		}
	})
}
