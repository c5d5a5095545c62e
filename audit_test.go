package dsar_test

import (
	"testing"
	"time"

	"github.com/dsar-project/dsar"
)

func TestEventHash(t *testing.T) {
	base := func() *dsar.Event {
		return &dsar.Event{RequestID: "01966b2e-8f3a-7c41-9d2e-5b7a3f1c9e20", At: time.Date(2025, 4, 17, 8, 15, 0, 0, time.UTC),
			Actor: "public", ClientIP: "192.0.2.7", Kind: dsar.EventCreated, To: dsar.StatusReceived,
			Data: map[string]string{"channel": "web"}}
	}
	// The canonical bytes and their hash, computed independently with
	//   printf '%s' '<canonical>' | sha256sum
	const wantCanonical = "13:dsar-audit-v1,1:1,64:" + dsar.AuditGenesis + ",36:01966b2e-8f3a-7c41-9d2e-5b7a3f1c9e20," +
		"20:2025-04-17T08:15:00Z,6:public,9:192.0.2.7,7:created,0:,8:received,0:,1:1,7:channel,3:web,"
	if got := string(dsar.CanonicalEvent(dsar.AuditGenesis, base(), 1)); got != wantCanonical {
		t.Fatalf("canonical encoding\n got %s\nwant %s", got, wantCanonical)
	}
	ref := dsar.EventHash(dsar.AuditGenesis, base(), 1)
	if ref != "a85208f6b1d21fb815977f4c681bc5986b4b26e2e85017776ada109a71a67e59" {
		t.Fatalf("hash = %s", ref)
	}

	oslo, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		prev   string
		seq    int64
		change func(*dsar.Event)
		same   bool // the hash must stay ref
	}{
		{name: "same event", same: true},
		{name: "same instant in another zone", same: true, change: func(e *dsar.Event) { e.At = e.At.In(oslo) }},
		{name: "database ID, seq and hash fields are not hashed", same: true, change: func(e *dsar.Event) {
			e.ID, e.Seq, e.PrevHash, e.Hash = 42, 7, "x", "y"
		}},
		{name: "prev", prev: "1111111111111111111111111111111111111111111111111111111111111111"},
		{name: "seq", seq: 2},
		{name: "request", change: func(e *dsar.Event) { e.RequestID = "01966b2e-8f3a-7c41-9d2e-5b7a3f1c9e21" }},
		{name: "at, by a microsecond", change: func(e *dsar.Event) { e.At = e.At.Add(time.Microsecond) }},
		{name: "actor", change: func(e *dsar.Event) { e.Actor = "apikey:x" }},
		{name: "client address", change: func(e *dsar.Event) { e.ClientIP = "192.0.2.8" }},
		{name: "kind", change: func(e *dsar.Event) { e.Kind = dsar.EventTransition }},
		{name: "from", change: func(e *dsar.Event) { e.From = dsar.StatusReceived }},
		{name: "to", change: func(e *dsar.Event) { e.To = dsar.StatusInProgress }},
		{name: "reason", change: func(e *dsar.Event) { e.Reason = "x" }},
		{name: "data value", change: func(e *dsar.Event) { e.Data["channel"] = "email" }},
		{name: "data key", change: func(e *dsar.Event) { e.Data = map[string]string{"channe": "lweb"} }},
		{name: "data entry added", change: func(e *dsar.Event) { e.Data["x"] = "" }},
		{name: "data removed", change: func(e *dsar.Event) { e.Data = nil }},
		// Text moved from one field to its neighbour changes the hash: the
		// lengths keep the fields apart.
		{name: "actor into client address", change: func(e *dsar.Event) { e.Actor, e.ClientIP = "publi", "c192.0.2.7" }},
		{name: "separator in a field", change: func(e *dsar.Event) { e.Actor, e.ClientIP = "public,9:192.0.2.7", "" }},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := base()
			if tt.change != nil {
				tt.change(ev)
			}
			prev, seq := dsar.AuditGenesis, int64(1)
			if tt.prev != "" {
				prev = tt.prev
			}
			if tt.seq != 0 {
				seq = tt.seq
			}
			got := dsar.EventHash(prev, ev, seq)
			if len(got) != 64 {
				t.Errorf("hash %q is not 64 hex digits", got)
			}
			if tt.same != (got == ref) {
				t.Errorf("hash %s, reference %s: want same=%v", got, ref, tt.same)
			}
			if !tt.same {
				if other, ok := seen[got]; ok {
					t.Errorf("same hash as %q", other)
				}
				seen[got] = tt.name
			}
		})
	}
}

func TestEventHashDataOrderAndEmptyData(t *testing.T) {
	at := time.Date(2025, 4, 17, 8, 15, 0, 0, time.UTC)
	a := &dsar.Event{RequestID: "r", At: at, Kind: dsar.EventExtended, Data: map[string]string{"a": "1", "b": "2", "c": "3"}}
	b := &dsar.Event{RequestID: "r", At: at, Kind: dsar.EventExtended, Data: map[string]string{"c": "3", "a": "1", "b": "2"}}
	for range 20 { // map iteration order varies from run to run
		if dsar.EventHash("p", a, 3) != dsar.EventHash("p", b, 3) {
			t.Fatal("the hash depends on the order of data entries")
		}
	}
	empty := &dsar.Event{RequestID: "r", At: at, Kind: dsar.EventExtended, Data: map[string]string{}}
	none := &dsar.Event{RequestID: "r", At: at, Kind: dsar.EventExtended}
	if dsar.EventHash("p", empty, 3) != dsar.EventHash("p", none, 3) {
		t.Error("empty and absent data hash differently; the database stores both as {}")
	}
}
