package dsar

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func mustCalendar(t testing.TB, j Jurisdiction) *Calendar {
	t.Helper()
	c, err := CalendarFor(j)
	if err != nil {
		t.Fatalf("CalendarFor(%q): %v", j, err)
	}
	return c
}

func TestCalendarForEveryJurisdiction(t *testing.T) {
	for _, j := range Jurisdictions {
		c := mustCalendar(t, j)
		if c.Jurisdiction() != j {
			t.Errorf("CalendarFor(%q).Jurisdiction() = %q", j, c.Jurisdiction())
		}
	}
}

func TestCalendarForUnknownJurisdiction(t *testing.T) {
	for _, j := range []Jurisdiction{"", "SE", "US", "no", "US-NY"} {
		c, err := CalendarFor(j)
		if c != nil || err == nil {
			t.Errorf("CalendarFor(%q) = %v, %v; want nil and an error", j, c, err)
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != EINVALID {
			t.Errorf("CalendarFor(%q) error = %#v, want a *Error with code %s", j, err, EINVALID)
		}
	}
}

// holidayYears is the full list of public holidays of a jurisdiction in a
// year, weekend ones included, worked out by hand.
type holidayYear struct {
	j        Jurisdiction
	year     int
	holidays []Date
}

// Easter Sunday is 20 Apr 2025 and 5 Apr 2026. Hence Maundy Thursday (-3),
// Good Friday (-2), Easter Monday (+1), Ascension Day (+39, a Thursday) and
// Whit Monday (+50).
var holidayYears = []holidayYear{
	{JurisdictionNO, 2025, []Date{
		d(2025, time.January, 1),   // Wed, New Year's Day
		d(2025, time.April, 17),    // Thu, Maundy Thursday
		d(2025, time.April, 18),    // Fri, Good Friday
		d(2025, time.April, 21),    // Mon, Easter Monday
		d(2025, time.May, 1),       // Thu, Labour Day
		d(2025, time.May, 17),      // Sat, Constitution Day (a Saturday anyway)
		d(2025, time.May, 29),      // Thu, Ascension Day: 20 Apr + 39
		d(2025, time.June, 9),      // Mon, Whit Monday: 20 Apr + 50
		d(2025, time.December, 25), // Thu, Christmas Day
		d(2025, time.December, 26), // Fri, St Stephen's Day
	}},
	{JurisdictionNO, 2026, []Date{
		d(2026, time.January, 1),   // Thu
		d(2026, time.April, 2),     // Thu, Maundy Thursday: 5 Apr - 3
		d(2026, time.April, 3),     // Fri, Good Friday
		d(2026, time.April, 6),     // Mon, Easter Monday
		d(2026, time.May, 1),       // Fri
		d(2026, time.May, 14),      // Thu, Ascension Day: 5 Apr + 39
		d(2026, time.May, 17),      // Sun, Constitution Day (a Sunday anyway)
		d(2026, time.May, 25),      // Mon, Whit Monday: 5 Apr + 50
		d(2026, time.December, 25), // Fri
		d(2026, time.December, 26), // Sat (a Saturday anyway)
	}},
	{JurisdictionLT, 2025, []Date{
		d(2025, time.January, 1),   // Wed, New Year's Day
		d(2025, time.February, 16), // Sun, State Restoration Day
		d(2025, time.March, 11),    // Tue, Independence Restoration Day
		d(2025, time.April, 20),    // Sun, Easter Sunday
		d(2025, time.April, 21),    // Mon, Easter Monday
		d(2025, time.May, 1),       // Thu, Labour Day
		d(2025, time.May, 4),       // Sun, Mother's Day (1st Sunday of May)
		d(2025, time.June, 1),      // Sun, Father's Day (1st Sunday of June)
		d(2025, time.June, 24),     // Tue, St John's Day
		d(2025, time.July, 6),      // Sun, Statehood Day
		d(2025, time.August, 15),   // Fri, Assumption Day
		d(2025, time.November, 1),  // Sat, All Saints' Day
		d(2025, time.November, 2),  // Sun, All Souls' Day
		d(2025, time.December, 24), // Wed, Christmas Eve
		d(2025, time.December, 25), // Thu, Christmas Day
		d(2025, time.December, 26), // Fri, second day of Christmas
	}},
	{JurisdictionLT, 2026, []Date{
		d(2026, time.January, 1),   // Thu
		d(2026, time.February, 16), // Mon
		d(2026, time.March, 11),    // Wed
		d(2026, time.April, 5),     // Sun, Easter Sunday
		d(2026, time.April, 6),     // Mon, Easter Monday
		d(2026, time.May, 1),       // Fri
		d(2026, time.May, 3),       // Sun, Mother's Day
		d(2026, time.June, 7),      // Sun, Father's Day
		d(2026, time.June, 24),     // Wed
		d(2026, time.July, 6),      // Mon
		d(2026, time.August, 15),   // Sat
		d(2026, time.November, 1),  // Sun
		d(2026, time.November, 2),  // Mon, All Souls' Day
		d(2026, time.December, 24), // Thu
		d(2026, time.December, 25), // Fri
		d(2026, time.December, 26), // Sat
	}},
	// California state holidays (the state-office closures, see caHolidays).
	// Not holidays: Lincoln Day (Wed 12 Feb 2025), Juneteenth (Thu 19 Jun
	// 2025), Admission Day (Tue 9 Sep 2025), Native American Day (Fri 26 Sep
	// 2025), Columbus Day (Mon 13 Oct 2025).
	{JurisdictionUSCA, 2025, []Date{
		d(2025, time.January, 1),   // Wed, New Year's Day
		d(2025, time.January, 20),  // Mon, Martin Luther King Jr. Day (3rd Monday)
		d(2025, time.February, 17), // Mon, Presidents' Day (3rd Monday)
		d(2025, time.March, 31),    // Mon, Cesar Chavez Day
		d(2025, time.May, 26),      // Mon, Memorial Day (last Monday)
		d(2025, time.July, 4),      // Fri, Independence Day
		d(2025, time.September, 1), // Mon, Labor Day (1st Monday)
		d(2025, time.November, 11), // Tue, Veterans Day
		d(2025, time.November, 27), // Thu, Thanksgiving (4th Thursday)
		d(2025, time.November, 28), // Fri, the day after Thanksgiving
		d(2025, time.December, 25), // Thu, Christmas Day
	}},
	{JurisdictionUSCA, 2026, []Date{
		d(2026, time.January, 1),   // Thu
		d(2026, time.January, 19),  // Mon, MLK Day
		d(2026, time.February, 16), // Mon, Presidents' Day
		d(2026, time.March, 31),    // Tue, Cesar Chavez Day
		d(2026, time.May, 25),      // Mon, Memorial Day
		d(2026, time.July, 4),      // Sat: not moved to Friday 3 Jul (Gov. Code §6701 moves only Sundays)
		d(2026, time.September, 7), // Mon, Labor Day
		d(2026, time.November, 11), // Wed, Veterans Day
		d(2026, time.November, 26), // Thu, Thanksgiving
		d(2026, time.November, 27), // Fri, the day after
		d(2026, time.December, 25), // Fri, Christmas Day
	}},
}

// TestHolidayLists checks every day of each year: the weekend and the listed
// holidays are non-working, every other day is a working day.
func TestHolidayLists(t *testing.T) {
	for _, hy := range holidayYears {
		c := mustCalendar(t, hy.j)
		var want []Date // the holidays that fall on a weekday
		for _, h := range hy.holidays {
			if c.IsWorkingDay(h) {
				t.Errorf("%s: holiday %v (%v) is a working day", hy.j, h, h.Weekday())
			}
			if wd := h.Weekday(); wd != time.Saturday && wd != time.Sunday {
				want = append(want, h)
			}
		}
		var got []Date // the non-working weekdays
		for day := d(hy.year, time.January, 1); day.Year == hy.year; day = day.AddDays(1) {
			wd := day.Weekday()
			weekend := wd == time.Saturday || wd == time.Sunday
			if weekend && c.IsWorkingDay(day) {
				t.Errorf("%s: %v is a %v and a working day", hy.j, day, wd)
			}
			if !weekend && !c.IsWorkingDay(day) {
				got = append(got, day)
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s %d: non-working weekdays (-want +got):\n%s", hy.j, hy.year, diff)
		}
	}
}

func TestIsWorkingDay(t *testing.T) {
	tests := []struct {
		j    Jurisdiction
		day  Date
		want bool
	}{
		// Norway: Christmas Eve and New Year's Eve are working days.
		{JurisdictionNO, d(2025, time.December, 24), true},  // Wed
		{JurisdictionNO, d(2025, time.December, 31), true},  // Wed
		{JurisdictionNO, d(2026, time.December, 24), true},  // Thu
		{JurisdictionNO, d(2026, time.December, 31), true},  // Thu
		{JurisdictionNO, d(2027, time.May, 17), false},      // Mon: Constitution Day and Whit Monday (Easter 28 Mar 2027 + 50)
		{JurisdictionNO, d(2027, time.May, 6), false},       // Thu: Ascension Day, 28 Mar + 39
		{JurisdictionNO, d(2025, time.April, 16), true},     // Wed before Maundy Thursday
		{JurisdictionNO, d(2025, time.April, 22), true},     // Tue after Easter Monday
		{JurisdictionNO, d(2025, time.April, 20), false},    // Easter Sunday
		{JurisdictionNO, d(2025, time.June, 8), false},      // Whit Sunday
		{JurisdictionLT, d(2025, time.April, 17), true},     // Maundy Thursday is a working day in Lithuania
		{JurisdictionLT, d(2025, time.April, 18), true},     // so is Good Friday
		{JurisdictionLT, d(2025, time.May, 29), true},       // and Ascension Day
		{JurisdictionLT, d(2025, time.June, 9), true},       // and Whit Monday
		{JurisdictionLT, d(2025, time.May, 17), false},      // a Saturday
		{JurisdictionLT, d(2025, time.December, 31), true},  // New Year's Eve
		{JurisdictionLT, d(2018, time.November, 2), true},   // Fri: All Souls' Day became a holiday in 2020
		{JurisdictionLT, d(2021, time.November, 2), false},  // Tue: it is one since
		{JurisdictionLT, d(2009, time.December, 24), true},  // Thu: Christmas Eve became a holiday in 2011
		{JurisdictionLT, d(2027, time.December, 24), false}, // Fri
		{JurisdictionNO, d(2027, time.December, 24), true},  // Fri, but a working day in Norway
		// California: Sunday holidays move to Monday, Saturday ones stay
		// except Veterans Day, which moves to Friday.
		{JurisdictionUSCA, d(2024, time.April, 1), false},     // Mon: Cesar Chavez Day (Sun 31 Mar) observed
		{JurisdictionUSCA, d(2023, time.November, 10), false}, // Fri: Veterans Day (Sat 11 Nov) observed
		{JurisdictionUSCA, d(2029, time.November, 12), false}, // Mon: Veterans Day (Sun 11 Nov) observed
		{JurisdictionUSCA, d(2026, time.July, 3), true},       // Fri: Independence Day (Sat 4 Jul) is not moved
		{JurisdictionUSCA, d(2027, time.July, 5), false},      // Mon: Independence Day (Sun 4 Jul) observed
		{JurisdictionUSCA, d(2027, time.December, 24), true},  // Fri: Christmas (Sat 25 Dec) is not moved
		{JurisdictionUSCA, d(2027, time.December, 31), true},  // Fri: New Year's Day 2028 (Sat) is not moved
		{JurisdictionUSCA, d(2023, time.January, 2), false},   // Mon: New Year's Day (Sun 1 Jan 2023) observed
		{JurisdictionUSCA, d(2022, time.December, 26), false}, // Mon: Christmas (Sun 25 Dec 2022) observed
		{JurisdictionUSCA, d(2025, time.December, 26), true},  // Fri after Christmas: a working day
		{JurisdictionUSCA, d(2025, time.December, 24), true},  // Christmas Eve: a working day
		{JurisdictionUSCA, d(2025, time.April, 18), true},     // Good Friday: open (only noon-3 p.m. in §6700)
		{JurisdictionUSCA, d(2000, time.March, 31), true},     // Fri: before Cesar Chavez Day existed (2001)
	}
	for _, tt := range tests {
		if got := mustCalendar(t, tt.j).IsWorkingDay(tt.day); got != tt.want {
			t.Errorf("%s IsWorkingDay(%v, %v) = %v, want %v", tt.j, tt.day, tt.day.Weekday(), got, tt.want)
		}
	}
}

func TestNextWorkingDay(t *testing.T) {
	tests := []struct {
		j    Jurisdiction
		from Date
		want Date
	}{
		{JurisdictionNO, d(2025, time.May, 19), d(2025, time.May, 19)},            // a working Monday: itself
		{JurisdictionNO, d(2025, time.May, 17), d(2025, time.May, 19)},            // Sat (and 17 May) -> Sun -> Mon
		{JurisdictionNO, d(2025, time.April, 17), d(2025, time.April, 22)},        // Maundy Thu, Good Fri, Sat, Easter Sun, Easter Mon -> Tue
		{JurisdictionLT, d(2025, time.April, 17), d(2025, time.April, 17)},        // a working day in Lithuania
		{JurisdictionLT, d(2025, time.April, 19), d(2025, time.April, 22)},        // Sat, Easter Sun, Easter Mon -> Tue
		{JurisdictionNO, d(2025, time.December, 24), d(2025, time.December, 24)},  // working in Norway
		{JurisdictionNO, d(2025, time.December, 25), d(2025, time.December, 29)},  // Thu, Fri 26, Sat, Sun -> Mon
		{JurisdictionLT, d(2025, time.December, 24), d(2025, time.December, 29)},  // Wed 24, Thu, Fri, Sat, Sun -> Mon
		{JurisdictionLT, d(2026, time.December, 24), d(2026, time.December, 28)},  // Thu 24, Fri 25, Sat 26, Sun -> Mon
		{JurisdictionNO, d(2026, time.January, 1), d(2026, time.January, 2)},      // Thu New Year -> Fri
		{JurisdictionNO, d(2026, time.May, 14), d(2026, time.May, 15)},            // Ascension Thu -> Fri
		{JurisdictionNO, d(2026, time.May, 23), d(2026, time.May, 26)},            // Sat, Whit Sun, Whit Mon -> Tue
		{JurisdictionUSCA, d(2025, time.November, 27), d(2025, time.December, 1)}, // Thanksgiving, day after, weekend -> Mon
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, mustCalendar(t, tt.j).NextWorkingDay(tt.from)); diff != "" {
			t.Errorf("%s NextWorkingDay(%v) (-want +got):\n%s", tt.j, tt.from, diff)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		j    Jurisdiction
		from Date
		n    int
		want Date
	}{
		{JurisdictionUSCA, d(2025, time.May, 19), 0, d(2025, time.May, 19)},     // zero: d itself
		{JurisdictionUSCA, d(2025, time.May, 17), 0, d(2025, time.May, 17)},     // zero on a Saturday: unchanged
		{JurisdictionUSCA, d(2025, time.May, 16), 1, d(2025, time.May, 19)},     // Fri + 1 -> Mon
		{JurisdictionUSCA, d(2025, time.May, 17), 1, d(2025, time.May, 19)},     // Sat + 1 -> Mon
		{JurisdictionUSCA, d(2025, time.March, 3), 10, d(2025, time.March, 17)}, // Mon + two weeks
		// Fri 28 Feb 2025: Mar 3-7 (5), Mar 10-14 (10).
		{JurisdictionUSCA, d(2025, time.February, 28), 10, d(2025, time.March, 14)},
		// Fri 21 Nov 2025: 24, 25, 26 (3); Thanksgiving 27 and 28 Nov skipped; Dec 1-5 (8); 8 (9), 9 (10).
		{JurisdictionUSCA, d(2025, time.November, 21), 10, d(2025, time.December, 9)},
		// Fri 19 Dec 2025: 22, 23, 24 (3); 25 skipped; 26 (4); 29, 30, 31 (7); 1 Jan skipped; 2 (8); 5 (9), 6 (10).
		{JurisdictionUSCA, d(2025, time.December, 19), 10, d(2026, time.January, 6)},
		// Thu 20 Mar 2025: 21 (1); 24-28 (6); 31 Mar Cesar Chavez Day skipped; Apr 1-4 (10).
		{JurisdictionUSCA, d(2025, time.March, 20), 10, d(2025, time.April, 4)},
		// Norway, Thu 10 Apr 2025: 11 (1); 14, 15, 16 (4); 17, 18, 21 Apr skipped; 22-25 (8); 28 (9), 29 (10).
		{JurisdictionNO, d(2025, time.April, 10), 10, d(2025, time.April, 29)},
		// Backwards: Tue 22 Apr 2025 - 1 in Norway skips Easter back to Wed 16 Apr.
		{JurisdictionNO, d(2025, time.April, 22), -1, d(2025, time.April, 16)},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, mustCalendar(t, tt.j).AddWorkingDays(tt.from, tt.n)); diff != "" {
			t.Errorf("%s AddWorkingDays(%v, %d) (-want +got):\n%s", tt.j, tt.from, tt.n, diff)
		}
	}
}

// TestCalendarConcurrentUse runs lookups from many goroutines; with -race it
// checks that the shared calendars are safe for concurrent use.
func TestCalendarConcurrentUse(t *testing.T) {
	var cals []*Calendar
	for _, j := range Jurisdictions {
		cals = append(cals, mustCalendar(t, j))
	}
	done := make(chan struct{})
	for i := 0; i < 8; i++ {
		go func(i int) {
			defer func() { done <- struct{}{} }()
			for _, c := range cals {
				c.AddWorkingDays(d(2025, time.January, 1).AddDays(i*40), 30)
			}
		}(i)
	}
	for i := 0; i < 8; i++ {
		<-done
	}
}
