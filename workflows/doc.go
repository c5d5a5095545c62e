// Package workflows is the background work of the service on asynq: the
// outbox dispatcher that moves committed outbox rows into the queue, the
// reconciler that re-queues whatever a lost queue dropped, and the task
// handlers (e-mail, deadline reminders).
//
// The database is the source of truth. A queue task carries only the ID of
// its outbox row, which is also the asynq task ID, so a row is queued at most
// once at a time; a handler first claims the row with a lease, and does
// nothing when the row is already done. Redis can be emptied at any moment:
// the reconciler finds every row that should be queued and is not, and
// queues it again.
package workflows
