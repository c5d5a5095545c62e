package dsar

import "time"

// The statutory periods.
const (
	gdprMonths         = 1  // GDPR Art 12(3): one month
	gdprExtendedMonths = 3  // one month plus the two-month extension
	ccpaDays           = 45 // 11 CCR §7021: 45 calendar days
	ccpaExtendedDays   = 90 // 45 plus one extension of 45
	ccpaAckBusinessDay = 10 // 11 CCR §7021(a): confirm receipt within 10 business days
)

// DeadlineInput is what the deadlines of a request depend on.
type DeadlineInput struct {
	Regulation   Regulation     // the law that sets the periods
	Jurisdiction Jurisdiction   // the controller's jurisdiction: its holidays move GDPR deadlines
	Location     *time.Location // the controller's zone, in which dates are counted
	ReceivedAt   time.Time      // the receipt instant, any zone
	Extended     bool           // whether the one extension has been taken
	PausedDays   int            // whole controller-local days the clock was stopped
}

// Deadlines are the dates computed for a request (RIGHTS.md §1).
type Deadlines struct {
	Due               Date      // the controller-local due date
	At                time.Time // Due.EndIn(Location): the deadline instant
	ExtensionNoticeBy Date      // the original (unextended) due date, pauses included: an extension must be announced by then
	AcknowledgeBy     Date      // CCPA: 10 California business days after receipt; zero Date for GDPR
}

// ComputeDeadlines computes the deadlines of a request. Dates are counted in
// the controller's zone: the receipt date is the date of ReceivedAt there.
//
// GDPR: the due date is receipt + 1 month (the same date in the next month,
// or its last day; Regulation 1182/71 Art 3(2)(c)) + the paused days, moved to
// the next working day of the jurisdiction (Art 3(4)); extended, receipt + 3
// months + the paused days, moved the same way.
//
// CCPA: the due date is receipt + 45 calendar days + the paused days (90 when
// extended), never moved past weekends or holidays; receipt must be confirmed
// within 10 California business days, whatever the controller's
// jurisdiction.
//
// It returns an EINVALID error for a nil Location, an unknown regulation or
// jurisdiction, or negative PausedDays.
func ComputeDeadlines(in DeadlineInput) (Deadlines, error) {
	if in.Location == nil {
		return Deadlines{}, Errorf(EINVALID, "deadline: no controller time zone")
	}
	if !in.Regulation.Valid() {
		return Deadlines{}, Errorf(EINVALID, "deadline: unknown regulation %q", string(in.Regulation))
	}
	calendar, err := CalendarFor(in.Jurisdiction)
	if err != nil {
		return Deadlines{}, err
	}
	if in.PausedDays < 0 {
		return Deadlines{}, Errorf(EINVALID, "deadline: negative paused days %d", in.PausedDays)
	}

	receipt := DateOf(in.ReceivedAt.In(in.Location))
	var d Deadlines
	switch in.Regulation {
	case RegulationGDPR:
		d.ExtensionNoticeBy = calendar.NextWorkingDay(receipt.AddMonths(gdprMonths).AddDays(in.PausedDays))
		d.Due = d.ExtensionNoticeBy
		if in.Extended {
			d.Due = calendar.NextWorkingDay(receipt.AddMonths(gdprExtendedMonths).AddDays(in.PausedDays))
		}
	case RegulationCCPA:
		d.ExtensionNoticeBy = receipt.AddDays(ccpaDays + in.PausedDays)
		d.Due = d.ExtensionNoticeBy
		if in.Extended {
			d.Due = receipt.AddDays(ccpaExtendedDays + in.PausedDays)
		}
		d.AcknowledgeBy = calendars[JurisdictionUSCA].AddWorkingDays(receipt, ccpaAckBusinessDay)
	}
	d.At = d.Due.EndIn(in.Location)
	return d, nil
}

// PausedDays returns the whole calendar days between the controller-local
// dates of start and end: 0 when both fall on the same local day, never
// negative. A nil loc counts in UTC.
func PausedDays(start, end time.Time, loc *time.Location) int {
	if loc == nil {
		loc = time.UTC
	}
	return max(0, DateOf(end.In(loc)).Sub(DateOf(start.In(loc))))
}
