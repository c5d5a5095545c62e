package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dsar-project/dsar"
	"github.com/dsar-project/dsar/store"
	"github.com/dsar-project/dsar/store/storetest"
)

// Of claims that race for one key, started together, exactly one gets it;
// the others see it running. A claim that lapsed (its process died) frees
// the key, and the lapsed call's late answer changes nothing.
func TestIdempotencyClaimIsAtomic(t *testing.T) {
	clock := dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC))
	db := storetest.Open(t, clock)
	idem := store.NewIdempotency(db)
	ctx := context.Background()
	const n = 16
	start := make(chan struct{})
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		claims []string
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			claim, replay, err := idem.Claim(ctx, "key-1", "hash-1")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && claim != "" && replay == nil:
				claims = append(claims, claim)
			case dsar.ErrorCode(err) == dsar.ECONFLICT:
			default:
				t.Errorf("claim: %q %v %v", claim, replay, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(claims) != 1 {
		t.Fatalf("%d claims, want 1", len(claims))
	}
	// The claim lapses: another call takes the key; the first call's
	// answer, late, is not recorded.
	clock.Advance(dsar.IdempotencyClaimTimeout)
	second, _, err := idem.Claim(ctx, "key-1", "hash-1")
	if err != nil || second == "" || second == claims[0] {
		t.Fatalf("claim after the lapse: %q %v", second, err)
	}
	if err := idem.Finish(ctx, "key-1", claims[0], &dsar.IdempotentAnswer{Status: 201, Body: []byte("late")}); err != nil {
		t.Fatal(err)
	}
	if err := idem.Finish(ctx, "key-1", second, &dsar.IdempotentAnswer{Status: 200, ContentType: "application/json", Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	_, replay, err := idem.Claim(ctx, "key-1", "hash-1")
	if err != nil || replay == nil || replay.Status != 200 || string(replay.Body) != "{}" {
		t.Errorf("replay: %+v %v", replay, err)
	}
}
