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

// Of submissions that race with one subject_request_id, started together,
// exactly one makes a case and every one answers with it; the ID, taken by
// a client of one controller, is refused to a client of another.
func TestOpenDSRSubmitMakesOneCasePerID(t *testing.T) {
	clock := dsar.NewManualClock(time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC))
	db := storetest.Open(t, clock)
	svc := store.NewOpenDSR(db)
	ctx := context.Background()
	key := dsar.Actor{ID: "apikey:client", Role: dsar.RoleSystem, Controllers: []string{"digiref"}}
	req := func() *dsar.OpenDSRRequest {
		return &dsar.OpenDSRRequest{Regulation: "gdpr", SubjectRequestID: "a7551968-d5d6-44b2-9831-815ac9017798", SubjectRequestType: "access",
			SubmittedTime: "2025-03-05T08:00:00Z", SubjectIdentities: []dsar.OpenDSRIdentity{{Type: "email", Value: "kari@example.no", Format: "raw"}}}
	}
	const n = 8
	start := make(chan struct{})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		cases   = map[string]bool{}
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			in, r, made, err := svc.Submit(ctx, key, req(), "dsar.example.test")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				t.Error(err)
				return
			}
			if made {
				created++
			}
			if in.RequestID != r.ID {
				t.Errorf("intake of %s, case %s", in.RequestID, r.ID)
			}
			cases[r.ID] = true
		}()
	}
	close(start)
	wg.Wait()
	if created != 1 || len(cases) != 1 {
		t.Errorf("%d created, %d cases", created, len(cases))
	}
	page, err := store.NewRequests(db).List(ctx, dsar.ActorService, dsar.RequestFilter{Search: "kari@example.no"})
	if err != nil || len(page.Requests) != 1 {
		t.Fatalf("cases %v %v", page, err)
	}
	other := dsar.Actor{ID: "apikey:other", Role: dsar.RoleSystem, Controllers: []string{"nte"}}
	_, _, _, err = svc.Submit(ctx, other, req(), "dsar.example.test")
	if de, ok := err.(*dsar.Error); !ok || de.Code != dsar.EINVALID || len(de.Fields) != 1 || de.Fields[0].Message != "field.opendsr_id_taken" {
		t.Errorf("another controller's client: %v", err)
	}
	if _, _, err := svc.Get(ctx, other, "a7551968-d5d6-44b2-9831-815ac9017798"); dsar.ErrorCode(err) != dsar.ENOTFOUND {
		t.Errorf("another controller's client reads it: %v", err)
	}
}
