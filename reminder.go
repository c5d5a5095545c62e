package dsar

import "time"

// ReminderHour is the controller-local hour at which the 7- and 2-day
// reminders go out.
const ReminderHour = 9

// PlannedReminder is a reminder due at an instant.
type PlannedReminder struct {
	Name string // Reminder7Days, Reminder2Days or ReminderOverdue
	At   time.Time
}

// PlanReminders returns the reminders of an open request whose time has not
// yet passed: 7 and 2 days before the due date at ReminderHour local time,
// and "overdue" at the first instant after the deadline. A request logged
// after its deadline gets its overdue reminder at once.
func PlanReminders(r *Request, loc *time.Location, now time.Time) []PlannedReminder {
	if !r.Status.Open() {
		return nil
	}
	var out []PlannedReminder
	for _, p := range []struct {
		name string
		days int
	}{{Reminder7Days, 7}, {Reminder2Days, 2}} {
		d := r.DueDate.AddDays(-p.days)
		at := time.Date(d.Year, d.Month, d.Day, ReminderHour, 0, 0, 0, loc)
		if at.After(now) {
			out = append(out, PlannedReminder{Name: p.name, At: at})
		}
	}
	overdue := r.Deadline.Add(time.Second)
	if overdue.Before(now) {
		overdue = now
	}
	return append(out, PlannedReminder{Name: ReminderOverdue, At: overdue})
}
