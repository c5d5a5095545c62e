package dsar

import (
	"context"
	"time"
)

// MaxDashboardMonths bounds the period of a dashboard (ten years).
const MaxDashboardMonths = 120

// Dashboard holds the figures of the officers' dashboard for some
// controllers over a period of controller-local dates, From to To, both
// included, as a yearly report (11 CCR §7102 style) needs them. It holds
// counts and durations only: never anything about a data subject.
//
// A request counts as received in the period when the controller-local date
// of its ReceivedAt falls in it, and as closed in the period when the date of
// its ClosedAt does (a reopened request is not closed). Open, DueSoon and
// Overdue describe the present moment, whatever the period.
type Dashboard struct {
	// Controllers are the controllers counted (those the actor may see, or
	// the one asked for).
	Controllers []string `json:"controllers"`
	From        Date     `json:"from"`
	To          Date     `json:"to"`
	// Now is the moment Open, DueSoon and Overdue were counted at.
	Now time.Time `json:"now"`

	// Received counts the requests received in the period by type, and
	// ReceivedTotal all of them.
	Received      map[RequestType]int `json:"received"`
	ReceivedTotal int                 `json:"received_total"`
	// Months counts them per calendar month of the period, every month
	// listed in order, empty ones included.
	Months []DashboardMonth `json:"months"`
	// Extended counts the requests received in the period whose deadline
	// was extended.
	Extended int `json:"extended"`

	// Open counts the open requests now; DueSoon those of them whose
	// deadline falls within DueSoonWindow, Overdue those whose deadline
	// has passed.
	Open    int `json:"open"`
	DueSoon int `json:"due_soon"`
	Overdue int `json:"overdue"`

	// Closed counts the requests closed in the period by their closing
	// status (completed, refused, withdrawn, forwarded, expired_unverified).
	Closed map[Status]int `json:"closed"`
	// Answered counts those closed in the period by an answer: completed or
	// refused (wholly or partly). The figures below are about them.
	Answered int `json:"answered"`
	// WithinOneMonth counts the answers given on or before the request's
	// unextended due date (one month under the GDPR, moved to a working
	// day, plus paused days; 45 days under the CCPA); WithinThreeMonths
	// those given on or before the receipt date + 3 months. Both as
	// controller-local dates. The shares are of Answered, 0 when none.
	WithinOneMonth         int     `json:"within_one_month"`
	WithinThreeMonths      int     `json:"within_three_months"`
	ShareWithinOneMonth    float64 `json:"share_within_one_month"`
	ShareWithinThreeMonths float64 `json:"share_within_three_months"`
	// MedianDaysToClose and MeanDaysToClose are over the answers: the
	// calendar days from the controller-local receipt date to the closing
	// date; 0 when none.
	MedianDaysToClose float64 `json:"median_days_to_close"`
	MeanDaysToClose   float64 `json:"mean_days_to_close"`

	// Refusals counts the requests refused in the period by ground, wholly
	// and partly, in the order of Grounds; grounds never used are left out.
	Refusals []RefusalCount `json:"refusals"`
}

// DashboardMonth is the requests received in one calendar month.
type DashboardMonth struct {
	// Month is YYYY-MM.
	Month  string              `json:"month"`
	ByType map[RequestType]int `json:"by_type"`
	Total  int                 `json:"total"`
}

// RefusalCount is the refusals on one ground.
type RefusalCount struct {
	Ground  Ground `json:"ground"`
	Whole   int    `json:"whole"`
	Partial int    `json:"partial"`
}

// DashboardSource computes dashboards. Controller "" means every controller
// the actor may see; a controller the actor may not see gives ENOTFOUND.
type DashboardSource interface {
	Dashboard(ctx context.Context, actor Actor, controller string, from, to Date) (*Dashboard, error)
}

// ValidateDashboardPeriod checks a dashboard period: both dates set, From
// not after To, and no longer than MaxDashboardMonths.
func ValidateDashboardPeriod(from, to Date) error {
	switch {
	case from.IsZero():
		return Invalid(FieldError{Field: "from", Message: "field.date"})
	case to.IsZero():
		return Invalid(FieldError{Field: "to", Message: "field.date"})
	case to.Before(from):
		return Invalid(FieldError{Field: "to", Message: "field.period"})
	case from.AddMonths(MaxDashboardMonths).Before(to):
		return Invalid(FieldError{Field: "to", Message: "field.period_too_long", Params: map[string]any{"months": MaxDashboardMonths}})
	}
	return nil
}
