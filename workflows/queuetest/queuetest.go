// Package queuetest gives a test a Redis for the asynq queue: the server
// named by DSAR_TEST_REDIS_URL, emptied first, or an in-process one when
// that variable is unset. When DSAR_TEST_REQUIRE_SERVICES is set (as CI
// sets it), a missing or unreachable Redis fails the test.
//
// Tests on a real Redis share one server: run them with `go test -p 1`.
package queuetest

import (
	"context"
	"os"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dsar-project/dsar/workflows/memredis"
)

// Redis returns the connection options of the test's Redis and a client.
func Redis(t testing.TB) (asynq.RedisConnOpt, redis.UniversalClient) {
	t.Helper()
	var opt asynq.RedisConnOpt
	if u := os.Getenv("DSAR_TEST_REDIS_URL"); u != "" {
		o, err := asynq.ParseRedisURI(u)
		if err != nil {
			t.Fatalf("DSAR_TEST_REDIS_URL: %v", err)
		}
		opt = o
	} else {
		if os.Getenv("DSAR_TEST_REQUIRE_SERVICES") != "" {
			t.Fatal("DSAR_TEST_REQUIRE_SERVICES is set but DSAR_TEST_REDIS_URL is not")
		}
		m, err := memredis.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(m.Close)
		opt = asynq.RedisClientOpt{Addr: m.Addr()}
	}
	rdb := opt.MakeRedisClient().(redis.UniversalClient)
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	return opt, rdb
}
