package dsar

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// d is a short way to write a date in a table.
func d(year int, month time.Month, day int) Date { return Date{Year: year, Month: month, Day: day} }

// mustLoc loads a time zone or fails the test.
func mustLoc(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load location %s: %v", name, err)
	}
	return loc
}

func TestNewDateNormalises(t *testing.T) {
	tests := []struct {
		name string
		got  Date
		want Date
	}{
		{"plain", NewDate(2025, time.May, 19), d(2025, time.May, 19)},
		{"31 April is 1 May", NewDate(2025, time.April, 31), d(2025, time.May, 1)},
		{"29 Feb in a common year is 1 Mar", NewDate(2025, time.February, 29), d(2025, time.March, 1)},
		{"29 Feb in a leap year stays", NewDate(2028, time.February, 29), d(2028, time.February, 29)},
		{"month 13 is January next year", NewDate(2025, 13, 1), d(2026, time.January, 1)},
		{"day 0 is the last day of the month before", NewDate(2025, time.March, 0), d(2025, time.February, 28)},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestDateOfUsesTheTimesOwnZone(t *testing.T) {
	oslo := mustLoc(t, "Europe/Oslo")
	la := mustLoc(t, "America/Los_Angeles")
	at := time.Date(2025, time.January, 31, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		want Date
	}{
		// 23:30 UTC on 31 Jan is 00:30 CET (+01:00) on 1 Feb in Oslo.
		{"utc", at, d(2025, time.January, 31)},
		{"oslo", at.In(oslo), d(2025, time.February, 1)},
		// 23:30 UTC is 15:30 PST (-08:00) the same day in Los Angeles.
		{"los angeles", at.In(la), d(2025, time.January, 31)},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, DateOf(tt.t)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

func TestAddDays(t *testing.T) {
	tests := []struct {
		from Date
		n    int
		want Date
	}{
		{d(2025, time.January, 23), 45, d(2025, time.March, 9)},        // 8 days to 31 Jan, 28 to 28 Feb, 9 into March
		{d(2025, time.December, 31), 1, d(2026, time.January, 1)},      // year end
		{d(2028, time.February, 28), 1, d(2028, time.February, 29)},    // leap day
		{d(2025, time.March, 1), -1, d(2025, time.February, 28)},       // backwards over a month end
		{d(2025, time.March, 29), 2, d(2025, time.March, 31)},          // over the Oslo/LA DST change: dates have no hours
		{d(2025, time.May, 19), 0, d(2025, time.May, 19)},              // zero
		{d(2025, time.December, 19), 90, d(2026, time.March, 19)},      // 12+31+28+19
		{d(2024, time.February, 29), 365, d(2025, time.February, 28)},  // 365 days from a leap day: 2 days (to 1 Mar) + 363
		{d(2025, time.September, 18), 45, d(2025, time.November, 2)},   // 12+31+2
		{d(2025, time.November, 10), 45, d(2025, time.December, 25)},   // 20+25
		{d(2025, time.February, 28), 45, d(2025, time.April, 14)},      // 31+14
		{d(2025, time.January, 23), 90, d(2025, time.April, 23)},       // 8+28+31+23
		{d(2025, time.December, 19), 45, d(2026, time.February, 2)},    // 12+31+2
		{d(2025, time.June, 15), -365, d(2024, time.June, 15)},         // back a common year: no 29 Feb between
		{d(2025, time.January, 1), 364, d(2025, time.December, 31)},    // within a common year
		{d(2028, time.January, 1), 365, d(2028, time.December, 31)},    // within a leap year
		{d(2025, time.October, 25), 2, d(2025, time.October, 27)},      // over the autumn DST change
		{d(2025, time.November, 1), 2, d(2025, time.November, 3)},      // over the LA autumn DST change
		{d(2025, time.March, 8), 2, d(2025, time.March, 10)},           // over the LA spring DST change
		{d(2025, time.March, 30), -1, d(2025, time.March, 29)},         // back over the Oslo spring DST change
		{d(2025, time.April, 30), 1, d(2025, time.May, 1)},             // month end
		{d(2025, time.February, 1), 27, d(2025, time.February, 28)},    // within February
		{d(2025, time.February, 1), 28, d(2025, time.March, 1)},        // out of February
		{d(2028, time.February, 1), 28, d(2028, time.February, 29)},    // out of February, leap year
		{d(2025, time.December, 31), -365, d(2024, time.December, 31)}, // back the 365 days of 2025
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.from.AddDays(tt.n)); diff != "" {
			t.Errorf("%v + %d days (-want +got):\n%s", tt.from, tt.n, diff)
		}
	}
}

func TestAddMonthsClampsToMonthEnd(t *testing.T) {
	tests := []struct {
		from Date
		n    int
		want Date
	}{
		{d(2025, time.January, 31), 1, d(2025, time.February, 28)},   // no 31 Feb: last day, common year
		{d(2028, time.January, 31), 1, d(2028, time.February, 29)},   // leap year
		{d(2025, time.March, 5), 1, d(2025, time.April, 5)},          // same date
		{d(2025, time.August, 31), 1, d(2025, time.September, 30)},   // no 31 Sep
		{d(2025, time.January, 30), 1, d(2025, time.February, 28)},   // no 30 Feb either
		{d(2025, time.January, 28), 1, d(2025, time.February, 28)},   // exists: same date
		{d(2025, time.February, 28), 1, d(2025, time.March, 28)},     // not the last day of March: same date, not month end
		{d(2025, time.January, 31), 3, d(2025, time.April, 30)},      // the extended deadline: no 31 Apr
		{d(2025, time.November, 30), 3, d(2026, time.February, 28)},  // over the year end, clamped
		{d(2027, time.November, 30), 3, d(2028, time.February, 29)},  // over the year end into a leap February
		{d(2025, time.December, 15), 1, d(2026, time.January, 15)},   // year end
		{d(2025, time.December, 31), 2, d(2026, time.February, 28)},  // two months, clamped
		{d(2025, time.March, 31), -1, d(2025, time.February, 28)},    // backwards, clamped
		{d(2025, time.March, 31), 0, d(2025, time.March, 31)},        // zero
		{d(2025, time.May, 31), 12, d(2026, time.May, 31)},           // a year
		{d(2024, time.February, 29), 12, d(2025, time.February, 28)}, // a year from a leap day
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.from.AddMonths(tt.n)); diff != "" {
			t.Errorf("%v + %d months (-want +got):\n%s", tt.from, tt.n, diff)
		}
	}
}

func TestSub(t *testing.T) {
	tests := []struct {
		a, b Date
		want int
	}{
		{d(2025, time.May, 19), d(2025, time.May, 19), 0},
		{d(2025, time.March, 9), d(2025, time.January, 23), 45},       // 8+28+9
		{d(2025, time.January, 23), d(2025, time.March, 9), -45},      // negative
		{d(2025, time.March, 31), d(2025, time.March, 29), 2},         // over the DST change: dates have no hours
		{d(2025, time.October, 27), d(2025, time.October, 25), 2},     // over the autumn DST change
		{d(2029, time.January, 1), d(2028, time.January, 1), 366},     // a leap year
		{d(2026, time.January, 1), d(2025, time.January, 1), 365},     // a common year
		{d(2028, time.March, 1), d(2028, time.February, 28), 2},       // over the leap day
		{d(2025, time.March, 1), d(2025, time.February, 28), 1},       // no leap day
		{d(2125, time.January, 1), d(2025, time.January, 1), 36524},   // a century: 24 leap days (2028..2124, not 2100)
		{d(2025, time.November, 3), d(2025, time.November, 1), 2},     // over the LA autumn DST change
		{d(1970, time.January, 1), d(1969, time.December, 31), 1},     // over the Unix epoch
		{d(2025, time.December, 31), d(2025, time.January, 1), 364},   // within a year
		{d(2025, time.January, 1), d(2024, time.December, 31), 1},     // year end
		{d(2025, time.June, 30), d(2025, time.June, 1), 29},           // within a month
		{d(2025, time.February, 1), d(2025, time.January, 31), 1},     // month end
		{d(2032, time.March, 1), d(2032, time.February, 29), 1},       // leap day
		{d(2000, time.March, 1), d(2000, time.February, 28), 2},       // 2000 is a leap year
		{d(2100, time.March, 1), d(2100, time.February, 28), 1},       // 2100 is not
		{d(2025, time.April, 14), d(2025, time.February, 28), 45},     // 31+14
		{d(2025, time.December, 25), d(2025, time.November, 10), 45},  // 20+25
		{d(2026, time.March, 19), d(2025, time.December, 19), 90},     // 12+31+28+19
		{d(2025, time.November, 2), d(2025, time.September, 18), 45},  // 12+31+2
		{d(2025, time.April, 23), d(2025, time.January, 23), 90},      // 8+28+31+23
		{d(2026, time.February, 2), d(2025, time.December, 19), 45},   // 12+31+2
		{d(2025, time.February, 28), d(2025, time.January, 31), 28},   // the one-month period of 31 Jan
		{d(2025, time.April, 5), d(2025, time.March, 5), 31},          // the one-month period of 5 Mar
		{d(2025, time.September, 30), d(2025, time.August, 31), 30},   // the one-month period of 31 Aug
		{d(2028, time.February, 29), d(2028, time.January, 31), 29},   // leap February
		{d(2025, time.May, 17), d(2025, time.April, 17), 30},          // the RIGHTS.md example
		{d(2025, time.May, 19), d(2025, time.May, 17), 2},             // its roll
		{d(2025, time.July, 17), d(2025, time.April, 17), 91},         // its extension: 13+31+30+17
		{d(2025, time.April, 30), d(2025, time.January, 31), 89},      // 31 Jan + 3 months: 28+31+30
		{d(2026, time.January, 5), d(2025, time.October, 5), 92},      // 26+30+31+5
		{d(2025, time.December, 29), d(2025, time.September, 26), 94}, // 4+31+30+29
	}
	for _, tt := range tests {
		if got := tt.a.Sub(tt.b); got != tt.want {
			t.Errorf("%v - %v = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestWeekdayBeforeAfter(t *testing.T) {
	if got := d(2025, time.May, 17).Weekday(); got != time.Saturday {
		t.Errorf("17 May 2025 is a %v, want Saturday", got)
	}
	if got := d(2025, time.May, 19).Weekday(); got != time.Monday {
		t.Errorf("19 May 2025 is a %v, want Monday", got)
	}
	if got := d(2032, time.February, 29).Weekday(); got != time.Sunday {
		t.Errorf("29 Feb 2032 is a %v, want Sunday", got)
	}
	a, b := d(2025, time.December, 31), d(2026, time.January, 1)
	if !a.Before(b) || a.After(b) || !b.After(a) || b.Before(a) {
		t.Errorf("order of %v and %v is wrong", a, b)
	}
	if a.Before(a) || a.After(a) {
		t.Errorf("%v is before or after itself", a)
	}
}

func TestStartInEndInAcrossDST(t *testing.T) {
	oslo := mustLoc(t, "Europe/Oslo")
	vilnius := mustLoc(t, "Europe/Vilnius")
	la := mustLoc(t, "America/Los_Angeles")
	tests := []struct {
		name       string
		date       Date
		loc        *time.Location
		wantStart  string
		wantEnd    string
		wantLength time.Duration // EndIn - StartIn: a day minus one second, +/- the DST hour
	}{
		// Oslo: clocks go from 02:00 CET to 03:00 CEST on Sunday 30 Mar 2025: a 23-hour day.
		{"oslo before spring", d(2025, time.March, 29), oslo, "2025-03-29T00:00:00+01:00", "2025-03-29T23:59:59+01:00", 24*time.Hour - time.Second},
		{"oslo spring", d(2025, time.March, 30), oslo, "2025-03-30T00:00:00+01:00", "2025-03-30T23:59:59+02:00", 23*time.Hour - time.Second},
		{"oslo after spring", d(2025, time.March, 31), oslo, "2025-03-31T00:00:00+02:00", "2025-03-31T23:59:59+02:00", 24*time.Hour - time.Second},
		// Oslo: clocks go from 03:00 CEST back to 02:00 CET on Sunday 26 Oct 2025: a 25-hour day.
		{"oslo autumn", d(2025, time.October, 26), oslo, "2025-10-26T00:00:00+02:00", "2025-10-26T23:59:59+01:00", 25*time.Hour - time.Second},
		{"oslo after autumn", d(2025, time.October, 27), oslo, "2025-10-27T00:00:00+01:00", "2025-10-27T23:59:59+01:00", 24*time.Hour - time.Second},
		// Vilnius: EET (+02:00) to EEST (+03:00) at 03:00 on 30 Mar 2025, back on 26 Oct 2025.
		{"vilnius spring", d(2025, time.March, 30), vilnius, "2025-03-30T00:00:00+02:00", "2025-03-30T23:59:59+03:00", 23*time.Hour - time.Second},
		{"vilnius autumn", d(2025, time.October, 26), vilnius, "2025-10-26T00:00:00+03:00", "2025-10-26T23:59:59+02:00", 25*time.Hour - time.Second},
		// Los Angeles: PST (-08:00) to PDT (-07:00) on 9 Mar 2025, back on 2 Nov 2025.
		{"la spring", d(2025, time.March, 9), la, "2025-03-09T00:00:00-08:00", "2025-03-09T23:59:59-07:00", 23*time.Hour - time.Second},
		{"la autumn", d(2025, time.November, 2), la, "2025-11-02T00:00:00-07:00", "2025-11-02T23:59:59-08:00", 25*time.Hour - time.Second},
		{"utc", d(2025, time.March, 30), time.UTC, "2025-03-30T00:00:00Z", "2025-03-30T23:59:59Z", 24*time.Hour - time.Second},
	}
	for _, tt := range tests {
		start, end := tt.date.StartIn(tt.loc), tt.date.EndIn(tt.loc)
		got := []any{start.Format(time.RFC3339), end.Format(time.RFC3339), end.Sub(start)}
		want := []any{tt.wantStart, tt.wantEnd, tt.wantLength}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		if got := DateOf(end); got != tt.date {
			t.Errorf("%s: EndIn is on %v, want %v", tt.name, got, tt.date)
		}
	}
}

func TestParseDateAndString(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{"2025-05-19", d(2025, time.May, 19), false},
		{"2028-02-29", d(2028, time.February, 29), false},
		{"2025-02-29", Date{}, true}, // not a date
		{"2025-5-19", Date{}, true},  // not zero-padded
		{"19.05.2025", Date{}, true},
		{"2025-05-19T00:00:00Z", Date{}, true},
		{"", Date{}, true},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDate(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseDate(%q) (-want +got):\n%s", tt.in, diff)
		}
		if !tt.wantErr && got.String() != tt.in {
			t.Errorf("ParseDate(%q).String() = %q", tt.in, got.String())
		}
	}
	if s := (Date{}).String(); s != "" {
		t.Errorf("zero Date String() = %q, want empty", s)
	}
	if !(Date{}).IsZero() || d(2025, time.May, 19).IsZero() {
		t.Error("IsZero is wrong")
	}
	if s := d(5, time.January, 2).String(); s != "0005-01-02" {
		t.Errorf("String pads the year: got %q", s)
	}
	if s := d(12345, time.December, 31).String(); s != "12345-12-31" {
		t.Errorf("a five-digit year: got %q", s)
	}
	for day := time.Date(1999, time.January, 1, 12, 0, 0, 0, time.UTC); day.Year() < 2032; day = day.AddDate(0, 0, 1) {
		if got, want := DateOf(day).String(), day.Format(time.DateOnly); got != want {
			t.Fatalf("String() = %q, want %q", got, want)
		}
	}
}

func TestDateText(t *testing.T) {
	date := d(2025, time.May, 19)
	b, err := date.MarshalText()
	if err != nil || string(b) != "2025-05-19" {
		t.Fatalf("MarshalText = %q, %v", b, err)
	}
	var back Date
	if err := back.UnmarshalText(b); err != nil {
		t.Fatalf("UnmarshalText: %v", err)
	}
	if diff := cmp.Diff(date, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := back.UnmarshalText([]byte("2025-13-01")); err == nil {
		t.Error("UnmarshalText accepted month 13")
	}
	if diff := cmp.Diff(date, back); diff != "" {
		t.Errorf("a failed UnmarshalText changed the date (-want +got):\n%s", diff)
	}

	// As a JSON value and a JSON map key (encoding.TextMarshaler).
	type doc struct {
		Due  Date         `json:"due"`
		Days map[Date]int `json:"days"`
	}
	in := doc{Due: date, Days: map[Date]int{d(2025, time.December, 24): 1}}
	js, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"due":"2025-05-19","days":{"2025-12-24":1}}`; string(js) != want {
		t.Errorf("json = %s, want %s", js, want)
	}
	var out doc
	if err := json.Unmarshal(js, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out); diff != "" {
		t.Errorf("json round trip (-want +got):\n%s", diff)
	}

	// The zero Date encodes as "".
	if b, _ := (Date{}).MarshalText(); string(b) != "" {
		t.Errorf("zero Date MarshalText = %q, want empty", b)
	}
}
