package dsar

import (
	"fmt"
	"time"
)

// Date is a calendar date with no time of day and no zone: a due date is a
// date in the controller's zone, whatever zone the reader is in.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the date, normalising overflowing days and months the way
// time.Date does (31 April is 1 May).
func NewDate(year int, month time.Month, day int) Date {
	return DateOf(time.Date(year, month, day, 12, 0, 0, 0, time.UTC))
}

// DateOf returns the calendar date of t in t's own location. Convert t with
// t.In(loc) first to get the date in another zone.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses a YYYY-MM-DD date.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// String returns the date as YYYY-MM-DD.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	if d.Year < 0 || d.Year > 9999 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
	}
	// By hand: every listed case shows three dates.
	b := [10]byte{'0' + byte(d.Year/1000), '0' + byte(d.Year/100%10), '0' + byte(d.Year/10%10), '0' + byte(d.Year%10), '-',
		'0' + byte(d.Month/10), '0' + byte(d.Month%10), '-', '0' + byte(d.Day/10), '0' + byte(d.Day%10)}
	return string(b[:])
}

// IsZero reports whether d is the zero Date (no date).
func (d Date) IsZero() bool { return d == Date{} }

// noon is the date at midday UTC, a safe anchor for calendar arithmetic.
func (d Date) noon() time.Time { return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC) }

// AddDays returns the date n calendar days later (earlier for negative n).
func (d Date) AddDays(n int) Date { return DateOf(d.noon().AddDate(0, 0, n)) }

// AddMonths returns the date with the same day number n months later; when
// that month is too short, its last day (31 Jan + 1 month = 28 or 29 Feb), as
// Regulation 1182/71 Art 3(2)(c) counts a period of months.
func (d Date) AddMonths(n int) Date {
	first := time.Date(d.Year, d.Month, 1, 12, 0, 0, 0, time.UTC).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	return Date{Year: first.Year(), Month: first.Month(), Day: min(d.Day, last)}
}

// Weekday returns the day of the week.
func (d Date) Weekday() time.Weekday { return d.noon().Weekday() }

// Before reports whether d comes before o.
func (d Date) Before(o Date) bool { return d.noon().Before(o.noon()) }

// After reports whether d comes after o.
func (d Date) After(o Date) bool { return d.noon().After(o.noon()) }

// Sub returns the number of calendar days from o to d.
func (d Date) Sub(o Date) int { return int(d.noon().Sub(o.noon()).Hours() / 24) }

// StartIn returns the first instant of the date in loc.
func (d Date) StartIn(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// EndIn returns the last second of the date in loc: the deadline instant of a
// period that ends on d.
func (d Date) EndIn(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 23, 59, 59, 0, loc)
}

// MarshalText encodes the date as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText decodes a YYYY-MM-DD date, or "" as the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}
