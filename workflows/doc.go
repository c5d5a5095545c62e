// Package workflows is the background work of the service on asynq: the
// outbox dispatcher that moves committed outbox rows into the queue, the
// reconciler that re-queues whatever a lost queue dropped and runs the
// planners, and the task handlers.
//
// The background work has one registry. Every outbox kind (dsar.OutboxKinds)
// has one handler, in a file of its own, found through the kinds map in
// handlers.go; the planners, which write the rows no change of a case writes
// (the morning digests, the audit checkpoints), are the list in planners.go.
// A new kind is a constant, a handler file and a line in the map; a new
// planner is a line in the list. The metrics and the tests read the same
// registry, and a kind without a handler fails a test.
//
// The database is the source of truth. A queue task carries only the ID of
// its outbox row, which is also the asynq task ID, so a row is queued at most
// once at a time; a handler first claims the row with a short lease, which it
// renews while it works, and does nothing when the row is already done.
// Redis can be emptied at any moment, and a worker can die at any moment:
// the reconciler finds every row that should be queued and is not, or whose
// worker stopped renewing its lease, and queues it again.
package workflows
