package dsar

import (
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/lt"
	"github.com/rickar/cal/v2/no"
	"github.com/rickar/cal/v2/us"
)

// Calendar tells the working days of one jurisdiction: Monday to Friday
// except its public holidays. A deadline that falls on a non-working day
// moves to the next working day (Regulation 1182/71 Art 3(4)), and CCPA
// "business days" are counted on the California calendar.
//
// A Calendar is immutable and safe for concurrent use.
type Calendar struct {
	jurisdiction Jurisdiction
	bc           *cal.BusinessCalendar
}

// The holiday lists, built from the definitions of github.com/rickar/cal/v2
// (which computes Easter and the weekday rules; nothing here hand-rolls
// them). Saturdays and Sundays are non-working days in every jurisdiction, so
// holidays that always fall on a Sunday (Easter Sunday, Whit Sunday, the
// Lithuanian Mother's and Father's days) need no definition.
var (
	// noHolidays are Norway's public holidays (lov om 1. og 17. mai som
	// høgtidsdager; lov om helligdager og helligdagsfred): 1 Jan, Maundy
	// Thursday, Good Friday, Easter Monday, 1 May, 17 May, Ascension Day,
	// Whit Monday, 25 Dec and 26 Dec. This is exactly no.Holidays: the
	// library does not list 24 Dec or 31 Dec, which are working days, so
	// nothing is excluded.
	noHolidays = no.Holidays

	// ltHolidays are Lithuania's public holidays, the non-working days of
	// the Labour Code (Darbo kodeksas) Art 123: 1 Jan, 16 Feb, 11 Mar,
	// Easter Sunday and Monday, 1 May, the first Sunday of May and of June,
	// 24 Jun, 6 Jul, 15 Aug, 1 Nov, 2 Nov, 24 Dec, 25 Dec and 26 Dec. The
	// library's lt.Holidays has all but the three that are always Sundays.
	// Nothing is excluded; two definitions are narrowed to the years the
	// law applies to (the library has no start year for them) and typed as
	// public holidays: All Souls' Day (2 Nov) has been a non-working day
	// since 2020, and Christmas Eve (24 Dec) since 2011 (plus a one-off
	// holiday on 24 Dec 2010, not modelled).
	ltHolidays = []*cal.Holiday{
		lt.NewYear,
		lt.StateRestorationDay,
		lt.IndependenceDay,
		lt.EasterMonday,
		lt.LabourDay,
		lt.SaintJohnsEve,
		lt.StatehoodDay,
		lt.AssumptionDay,
		lt.AllSaintsDay,
		lt.AllSoulsDay.Clone(&cal.Holiday{Type: cal.ObservancePublic, StartYear: 2020}),
		lt.ChristmasEve.Clone(&cal.Holiday{Type: cal.ObservancePublic, StartYear: 2011}),
		lt.ChristmasDayOne,
		lt.ChristmasDayTwo,
	}

	// caSundayToMonday is the observed-date rule of California Government
	// Code §6701 and §19853: a holiday on a Sunday is observed on the
	// following Monday. A holiday on a Saturday is not moved (state
	// employees accrue holiday credit and the offices are open on Friday),
	// unlike the federal rule the us package applies.
	caSundayToMonday = []cal.AltDay{{Day: time.Sunday, Offset: 1}}

	// caSaturdayToFridaySundayToMonday is the rule for Veterans Day alone
	// (Gov. Code §6701): on a Saturday it is observed on the preceding
	// Friday, on a Sunday on the following Monday.
	caSaturdayToFridaySundayToMonday = []cal.AltDay{
		{Day: time.Saturday, Offset: -1},
		{Day: time.Sunday, Offset: 1},
	}

	// caCesarChavezDay is Cesar Chavez Day, 31 March, a California state
	// holiday (Gov. Code §6700(a), paid state holiday since 2001 under
	// §19853). The us package does not define it.
	caCesarChavezDay = &cal.Holiday{
		Name:      "Cesar Chavez Day",
		Type:      cal.ObservancePublic,
		StartYear: 2001,
		Month:     time.March,
		Day:       31,
		Observed:  caSundayToMonday,
		Func:      cal.CalcDayOfMonth,
	}

	// caHolidays are the California state holidays on which state offices
	// are closed: the paid holidays of Government Code §19853 as listed by
	// CalHR ("State Holidays", calhr.ca.gov): New Year's Day, Martin Luther
	// King Jr. Day (3rd Monday of January), Presidents' Day (3rd Monday of
	// February), Cesar Chavez Day (31 Mar), Memorial Day (last Monday of
	// May), Independence Day (4 Jul), Labor Day (1st Monday of September),
	// Veterans Day (11 Nov), Thanksgiving (4th Thursday of November), the
	// day after Thanksgiving, and Christmas Day; a Sunday holiday is
	// observed on the Monday after, and Veterans Day on a Saturday on the
	// Friday before (§6701).
	//
	// They are built from the us package's definitions (the day after
	// Thanksgiving is us.DayAfterThanksgivingDay, which us.Holidays leaves
	// out) with California's observed-date rules, plus Cesar Chavez Day.
	// Excluded from us.Holidays: Columbus Day and Juneteenth, which are not
	// on CalHR's lists (Columbus Day stopped being a paid state holiday in
	// 2009; Juneteenth was added to §6700 from 2023 but is not on CalHR's
	// 2024 list, state employees take it as a personal holiday). Also not
	// counted, although Gov. Code §6700 names them: Lincoln Day (12 Feb,
	// dropped from the paid holidays with Columbus Day), Admission Day
	// (9 Sep), Native American Day (4th Friday of September, added to §6700
	// in 2014 by AB 1973 without closing state offices), Lunar New Year,
	// Genocide Remembrance Day (24 Apr) and Good Friday from noon to 3 p.m.
	// Counting fewer holidays gives the earlier CCPA date, the safe one.
	caHolidays = []*cal.Holiday{
		us.NewYear.Clone(&cal.Holiday{Observed: caSundayToMonday}),
		us.MlkDay,
		us.PresidentsDay,
		caCesarChavezDay,
		us.MemorialDay,
		us.IndependenceDay.Clone(&cal.Holiday{Observed: caSundayToMonday}),
		us.LaborDay,
		us.VeteransDay.Clone(&cal.Holiday{Observed: caSaturdayToFridaySundayToMonday}),
		us.ThanksgivingDay,
		us.DayAfterThanksgivingDay,
		us.ChristmasDay.Clone(&cal.Holiday{Observed: caSundayToMonday}),
	}

	// calendars holds one immutable Calendar per jurisdiction.
	calendars = map[Jurisdiction]*Calendar{
		JurisdictionNO:   newCalendar(JurisdictionNO, noHolidays),
		JurisdictionLT:   newCalendar(JurisdictionLT, ltHolidays),
		JurisdictionUSCA: newCalendar(JurisdictionUSCA, caHolidays),
	}
)

// newCalendar returns a Monday-to-Friday calendar with the given holidays.
// The library's result cache stays off: it is an unguarded map, and the
// calendars are shared between goroutines.
func newCalendar(j Jurisdiction, holidays []*cal.Holiday) *Calendar {
	bc := cal.NewBusinessCalendar()
	bc.Name = string(j)
	bc.AddHoliday(holidays...)
	return &Calendar{jurisdiction: j, bc: bc}
}

// CalendarFor returns the working-day calendar of the jurisdiction, or an
// EINVALID error for a jurisdiction with no calendar.
func CalendarFor(j Jurisdiction) (*Calendar, error) {
	c, ok := calendars[j]
	if !ok {
		return nil, Errorf(EINVALID, "no holiday calendar for jurisdiction %q", string(j))
	}
	return c, nil
}

// Jurisdiction returns the jurisdiction whose holidays the calendar has.
func (c *Calendar) Jurisdiction() Jurisdiction { return c.jurisdiction }

// IsWorkingDay reports whether d is a working day: Monday to Friday and not a
// public holiday (or the observed day of one) of the jurisdiction.
func (c *Calendar) IsWorkingDay(d Date) bool {
	return c.bc.IsWorkday(d.noon())
}

// NextWorkingDay returns d when d is a working day, else the first working day
// after d: where a period that ends on d really ends.
func (c *Calendar) NextWorkingDay(d Date) Date {
	for !c.IsWorkingDay(d) {
		d = d.AddDays(1)
	}
	return d
}

// AddWorkingDays returns the date n working days after d, d itself not
// counted: with n = 10, the tenth working day after d. For n = 0 it returns d
// unchanged (even on a non-working day); a negative n counts back.
func (c *Calendar) AddWorkingDays(d Date, n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if c.IsWorkingDay(d) {
			n--
		}
	}
	return d
}
