package dsar

import (
	"errors"
	"testing"
	"time"
	_ "time/tzdata" // the tests need Europe/Oslo, Europe/Vilnius and America/Los_Angeles everywhere

	"github.com/google/go-cmp/cmp"
)

// deadlineView is Deadlines as strings: the dates as YYYY-MM-DD and the
// deadline instant in RFC 3339, so that the offset is compared too.
type deadlineView struct {
	Due, At, ExtensionNoticeBy, AcknowledgeBy string
}

func viewOf(dl Deadlines) deadlineView {
	return deadlineView{
		Due:               dl.Due.String(),
		At:                dl.At.Format(time.RFC3339),
		ExtensionNoticeBy: dl.ExtensionNoticeBy.String(),
		AcknowledgeBy:     dl.AcknowledgeBy.String(),
	}
}

// local returns 10:00 on the date in loc, a receipt in the middle of a day.
func local(loc *time.Location, year int, month time.Month, day int) time.Time {
	return time.Date(year, month, day, 10, 0, 0, 0, loc)
}

// utc parses an RFC 3339 instant.
func utc(t testing.TB, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestComputeDeadlines(t *testing.T) {
	oslo := mustLoc(t, "Europe/Oslo")       // CET +01:00, CEST +02:00 from 30 Mar to 26 Oct 2025
	vilnius := mustLoc(t, "Europe/Vilnius") // EET +02:00, EEST +03:00 from 30 Mar to 26 Oct 2025
	la := mustLoc(t, "America/Los_Angeles") // PST -08:00, PDT -07:00 from 9 Mar to 2 Nov 2025
	gdpr := func(j Jurisdiction, loc *time.Location, at time.Time) DeadlineInput {
		return DeadlineInput{Regulation: RegulationGDPR, Jurisdiction: j, Location: loc, ReceivedAt: at}
	}
	ccpa := func(j Jurisdiction, loc *time.Location, at time.Time) DeadlineInput {
		return DeadlineInput{Regulation: RegulationCCPA, Jurisdiction: j, Location: loc, ReceivedAt: at}
	}
	extended := func(in DeadlineInput) DeadlineInput { in.Extended = true; return in }
	paused := func(n int, in DeadlineInput) DeadlineInput { in.PausedDays = n; return in }
	// same is the GDPR view where the unextended due date is the notice date.
	same := func(due, at string) deadlineView { return deadlineView{Due: due, At: at, ExtensionNoticeBy: due} }

	tests := []struct {
		name string
		in   DeadlineInput
		want deadlineView
	}{
		// One month, the same date in the next month or its last day.
		{ // 31 Jan + 1 month: no 31 Feb, so 28 Feb, a Friday.
			"31 Jan to 28 Feb", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.January, 31)),
			same("2025-02-28", "2025-02-28T23:59:59+01:00")},
		{ // Leap year: 29 Feb 2028 is a Tuesday, a working day.
			"31 Jan to 29 Feb leap", gdpr(JurisdictionNO, oslo, local(oslo, 2028, time.January, 31)),
			same("2028-02-29", "2028-02-29T23:59:59+01:00")},
		{ // Leap year: 29 Feb 2032 is a Sunday: Monday 1 Mar.
			"31 Jan to 29 Feb leap on a Sunday", gdpr(JurisdictionNO, oslo, local(oslo, 2032, time.January, 31)),
			same("2032-03-01", "2032-03-01T23:59:59+01:00")},
		{ // No 31 Sep: 30 Sep 2025, a Tuesday; summer time.
			"31 Aug to 30 Sep", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.August, 31)),
			same("2025-09-30", "2025-09-30T23:59:59+02:00")},
		{ // 5 Apr 2025 is a Saturday: Monday 7 Apr.
			"5 Mar to 5 Apr, a Saturday", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.March, 5)),
			same("2025-04-07", "2025-04-07T23:59:59+02:00")},
		{ // RIGHTS.md: 17 May 2025 is a Saturday and Constitution Day; Sunday 18; Monday 19 May.
			"RIGHTS.md example", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.April, 17)),
			same("2025-05-19", "2025-05-19T23:59:59+02:00")},

		// Easter 2025 (Sunday 20 Apr) in Norway: Thu 17, Fri 18, Sat, Sun, Mon 21 are all off.
		{ // 17 Apr: Maundy Thursday -> Tuesday 22 Apr.
			"NO Maundy Thursday", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.March, 17)),
			same("2025-04-22", "2025-04-22T23:59:59+02:00")},
		{ // 18 Apr: Good Friday -> Tuesday 22 Apr.
			"NO Good Friday", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.March, 18)),
			same("2025-04-22", "2025-04-22T23:59:59+02:00")},
		{ // 21 Apr: Easter Monday -> Tuesday 22 Apr.
			"NO Easter Monday", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.March, 21)),
			same("2025-04-22", "2025-04-22T23:59:59+02:00")},
		// In Lithuania only Easter Sunday and Monday are holidays.
		{ // 17 Apr: Maundy Thursday is a working day.
			"LT Maundy Thursday", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.March, 17)),
			same("2025-04-17", "2025-04-17T23:59:59+03:00")},
		{ // 18 Apr: Good Friday is a working day.
			"LT Good Friday", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.March, 18)),
			same("2025-04-18", "2025-04-18T23:59:59+03:00")},
		{ // 21 Apr: Easter Monday -> Tuesday 22 Apr.
			"LT Easter Monday", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.March, 21)),
			same("2025-04-22", "2025-04-22T23:59:59+03:00")},

		// 1 May and 17 May.
		{ // Thursday 1 May 2025 -> Friday 2 May.
			"NO 1 May", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.April, 1)),
			same("2025-05-02", "2025-05-02T23:59:59+02:00")},
		{ // Thursday 1 May 2025 -> Friday 2 May.
			"LT 1 May", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.April, 1)),
			same("2025-05-02", "2025-05-02T23:59:59+03:00")},
		{ // Monday 17 May 2027 is Constitution Day and Whit Monday (Easter 28 Mar + 50) -> Tuesday 18 May.
			"NO 17 May on a Monday", gdpr(JurisdictionNO, oslo, local(oslo, 2027, time.April, 17)),
			same("2027-05-18", "2027-05-18T23:59:59+02:00")},
		{ // Monday 17 May 2027 is a working day in Lithuania.
			"LT 17 May", gdpr(JurisdictionLT, vilnius, local(vilnius, 2027, time.April, 17)),
			same("2027-05-17", "2027-05-17T23:59:59+03:00")},
		{ // Sunday 17 May 2026 -> Monday 18 May.
			"NO 17 May on a Sunday", gdpr(JurisdictionNO, oslo, local(oslo, 2026, time.April, 17)),
			same("2026-05-18", "2026-05-18T23:59:59+02:00")},

		// Ascension Day (Easter + 39) and Whit Monday (Easter + 50).
		{ // Thursday 29 May 2025 -> Friday 30 May.
			"NO Ascension 2025", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.April, 29)),
			same("2025-05-30", "2025-05-30T23:59:59+02:00")},
		{ // Thursday 14 May 2026 (5 Apr + 39) -> Friday 15 May.
			"NO Ascension 2026", gdpr(JurisdictionNO, oslo, local(oslo, 2026, time.April, 14)),
			same("2026-05-15", "2026-05-15T23:59:59+02:00")},
		{ // A working day in Lithuania.
			"LT Ascension", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.April, 29)),
			same("2025-05-29", "2025-05-29T23:59:59+03:00")},
		{ // Monday 9 Jun 2025 -> Tuesday 10 Jun.
			"NO Whit Monday", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.May, 9)),
			same("2025-06-10", "2025-06-10T23:59:59+02:00")},
		{ // A working day in Lithuania.
			"LT Whit Monday", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.May, 9)),
			same("2025-06-09", "2025-06-09T23:59:59+03:00")},

		// Christmas and New Year.
		{ // Wednesday 24 Dec 2025 is a working day in Norway.
			"NO 24 Dec", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.November, 24)),
			same("2025-12-24", "2025-12-24T23:59:59+01:00")},
		{ // Thu 25 and Fri 26 Dec are holidays, then the weekend -> Monday 29 Dec.
			"NO 25 Dec", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.November, 25)),
			same("2025-12-29", "2025-12-29T23:59:59+01:00")},
		{ // Wed 24, Thu 25, Fri 26 Dec are holidays, then the weekend -> Monday 29 Dec.
			"LT 24 Dec", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.November, 24)),
			same("2025-12-29", "2025-12-29T23:59:59+02:00")},
		{ // Friday 26 Dec -> Monday 29 Dec.
			"LT 26 Dec", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.November, 26)),
			same("2025-12-29", "2025-12-29T23:59:59+02:00")},
		{ // Thursday 1 Jan 2026 -> Friday 2 Jan.
			"NO New Year", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.December, 1)),
			same("2026-01-02", "2026-01-02T23:59:59+01:00")},
		{ // Thursday 1 Jan 2026 -> Friday 2 Jan.
			"LT New Year", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.December, 1)),
			same("2026-01-02", "2026-01-02T23:59:59+02:00")},
		{ // 30 Nov + 1 month = 30 Dec, + 1 paused day = Wednesday 31 Dec, a working day in Norway.
			"NO 31 Dec", paused(1, gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.November, 30))),
			same("2025-12-31", "2025-12-31T23:59:59+01:00")},

		// Time zones: the receipt date is the controller-local date.
		{ // 23:30 UTC on 31 Jan is 00:30 on Saturday 1 Feb in Oslo: 1 Mar, a Saturday -> Monday 3 Mar.
			"Oslo after midnight", gdpr(JurisdictionNO, oslo, utc(t, "2025-01-31T23:30:00Z")),
			same("2025-03-03", "2025-03-03T23:59:59+01:00")},
		{ // The same instant counted in UTC is 31 Jan: 28 Feb.
			"same instant in UTC", gdpr(JurisdictionNO, time.UTC, utc(t, "2025-01-31T23:30:00Z")),
			same("2025-02-28", "2025-02-28T23:59:59Z")},
		{ // 07:30 UTC on 1 Mar is 08:30 on 1 Mar in Oslo: Tuesday 1 Apr, summer time.
			"Oslo morning", gdpr(JurisdictionNO, oslo, utc(t, "2025-03-01T07:30:00Z")),
			same("2025-04-01", "2025-04-01T23:59:59+02:00")},

		// Daylight saving. Oslo: 02:00 CET -> 03:00 CEST on Sunday 30 Mar 2025, back on Sunday 26 Oct.
		{ // 23:30 UTC on 29 Mar is 00:30 CET on 30 Mar in Oslo: 30 Apr, a Wednesday, in CEST.
			"Oslo spring receipt", gdpr(JurisdictionNO, oslo, utc(t, "2025-03-29T23:30:00Z")),
			same("2025-04-30", "2025-04-30T23:59:59+02:00")},
		{ // 28 Feb + 1 month = Fri 28 Mar, + 1 paused day = Sat 29 Mar -> Mon 31 Mar, the first CEST Monday.
			"Oslo spring due", paused(1, gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.February, 28))),
			same("2025-03-31", "2025-03-31T23:59:59+02:00")},
		{ // Friday 24 Oct 2025, still CEST.
			"Oslo before autumn", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.September, 24)),
			same("2025-10-24", "2025-10-24T23:59:59+02:00")},
		{ // Sunday 26 Oct -> Monday 27 Oct, back in CET.
			"Oslo autumn", gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.September, 26)),
			same("2025-10-27", "2025-10-27T23:59:59+01:00")},
		// Vilnius: 03:00 EET -> 04:00 EEST on 30 Mar 2025, back on 26 Oct.
		{ // 22:30 UTC on 29 Mar is 00:30 EET on 30 Mar in Vilnius: Wednesday 30 Apr, EEST.
			"Vilnius spring receipt", gdpr(JurisdictionLT, vilnius, utc(t, "2025-03-29T22:30:00Z")),
			same("2025-04-30", "2025-04-30T23:59:59+03:00")},
		{ // The same instant is 23:30 CET on Saturday 29 Mar in Oslo: Tuesday 29 Apr.
			"same instant in Oslo", gdpr(JurisdictionNO, oslo, utc(t, "2025-03-29T22:30:00Z")),
			same("2025-04-29", "2025-04-29T23:59:59+02:00")},
		{ // Sunday 26 Oct -> Monday 27 Oct, back in EET.
			"Vilnius autumn", gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.September, 26)),
			same("2025-10-27", "2025-10-27T23:59:59+02:00")},

		// Extension: receipt + 3 months, rolled; the notice is due by the unextended date.
		{ // 17 Jul 2025 is a Thursday; the notice by Monday 19 May.
			"extended RIGHTS.md example", extended(gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.April, 17))),
			deadlineView{"2025-07-17", "2025-07-17T23:59:59+02:00", "2025-05-19", ""}},
		{ // No 31 Apr: Wednesday 30 Apr; the notice by 28 Feb.
			"extended 31 Jan", extended(gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.January, 31))),
			deadlineView{"2025-04-30", "2025-04-30T23:59:59+02:00", "2025-02-28", ""}},
		{ // No 31 Nov: 30 Nov, a Sunday -> Monday 1 Dec; the notice by Tuesday 30 Sep.
			"extended 31 Aug", extended(gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.August, 31))),
			deadlineView{"2025-12-01", "2025-12-01T23:59:59+01:00", "2025-09-30", ""}},
		{ // 26 Dec is a Friday holiday, then the weekend -> Monday 29 Dec; the notice by Monday 27 Oct.
			"extended onto Christmas", extended(gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.September, 26))),
			deadlineView{"2025-12-29", "2025-12-29T23:59:59+01:00", "2025-10-27", ""}},
		{ // 24 Dec: a working day in Norway; the notice by Friday 24 Oct.
			"extended NO 24 Dec", extended(gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.September, 24))),
			deadlineView{"2025-12-24", "2025-12-24T23:59:59+01:00", "2025-10-24", ""}},
		{ // 24 Dec: a holiday in Lithuania -> Monday 29 Dec; the notice by Friday 24 Oct.
			"extended LT 24 Dec", extended(gdpr(JurisdictionLT, vilnius, local(vilnius, 2025, time.September, 24))),
			deadlineView{"2025-12-29", "2025-12-29T23:59:59+02:00", "2025-10-24", ""}},

		// Pauses: paused days are added before the move past non-working days.
		{ // 3 Apr is a Thursday, + 2 paused days = Saturday 5 Apr -> Monday 7 Apr.
			"pause onto a Saturday", paused(2, gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.March, 3))),
			same("2025-04-07", "2025-04-07T23:59:59+02:00")},
		{ // 5 Apr (Sat) + 1 = Sunday 6 Apr -> Monday 7 Apr. Rolling first (7 Apr) and adding after would give 8 Apr.
			"pause before the roll", paused(1, gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.March, 5))),
			same("2025-04-07", "2025-04-07T23:59:59+02:00")},
		{ // 3 Apr + 14 = Maundy Thursday 17 Apr -> Tuesday 22 Apr.
			"pause into Easter", paused(14, gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.March, 3))),
			same("2025-04-22", "2025-04-22T23:59:59+02:00")},
		{ // Extended: 3 Jun (Tue) + 2 = Thursday 5 Jun; the notice by 3 Apr + 2 = Sat 5 Apr -> Mon 7 Apr.
			"pause and extension", extended(paused(2, gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.March, 3)))),
			deadlineView{"2025-06-05", "2025-06-05T23:59:59+02:00", "2025-04-07", ""}},
		{ // 17 Apr + 1 month = Sat 17 May, + 30 paused days = Monday 16 Jun, a working day.
			"long pause", paused(30, gdpr(JurisdictionNO, oslo, local(oslo, 2025, time.April, 17))),
			same("2025-06-16", "2025-06-16T23:59:59+02:00")},

		// CCPA: 45 (90) calendar days, not moved; acknowledgement in 10 California business days.
		{ // 23 Jan + 45 = Sunday 9 Mar, the day Los Angeles goes to PDT: not moved. Ack: Thu 23 Jan,
			// 24 (1), 27-31 (6), 3-6 Feb (10) -> 6 Feb.
			"CCPA on a Sunday and the LA spring change", ccpa(JurisdictionUSCA, la, local(la, 2025, time.January, 23)),
			deadlineView{"2025-03-09", "2025-03-09T23:59:59-07:00", "2025-03-09", "2025-02-06"}},
		{ // 23 Jan + 90 = Wednesday 23 Apr; the notice by 9 Mar.
			"CCPA extended", extended(ccpa(JurisdictionUSCA, la, local(la, 2025, time.January, 23))),
			deadlineView{"2025-04-23", "2025-04-23T23:59:59-07:00", "2025-03-09", "2025-02-06"}},
		{ // Paused 3 days: 12 Mar, extended 26 Apr (a Saturday, not moved); the acknowledgement does not move.
			"CCPA paused and extended", extended(paused(3, ccpa(JurisdictionUSCA, la, local(la, 2025, time.January, 23)))),
			deadlineView{"2025-04-26", "2025-04-26T23:59:59-07:00", "2025-03-12", "2025-02-06"}},
		{ // 18 Sep + 45 = Sunday 2 Nov, the day LA goes back to PST. Ack: Thu 18 Sep, 19 (1), 22-26 (6),
			// 29, 30 Sep, 1, 2 Oct (10) -> 2 Oct (Native American Day, Fri 26 Sep, is a business day).
			"CCPA LA autumn change", ccpa(JurisdictionUSCA, la, local(la, 2025, time.September, 18)),
			deadlineView{"2025-11-02", "2025-11-02T23:59:59-08:00", "2025-11-02", "2025-10-02"}},
		{ // 10 Nov + 45 = Thursday 25 Dec, Christmas: not moved. Ack: Mon 10 Nov, Veterans Day 11 Nov
			// skipped, 12-14 (3), 17-21 (8), 24 (9), 25 (10) -> 25 Nov.
			"CCPA on Christmas", ccpa(JurisdictionUSCA, la, local(la, 2025, time.November, 10)),
			deadlineView{"2025-12-25", "2025-12-25T23:59:59-08:00", "2025-12-25", "2025-11-25"}},
		{ // 21 Nov + 45 = Monday 5 Jan 2026. Ack: Fri 21 Nov, 24-26 (3), Thanksgiving 27 and 28 skipped,
			// 1-5 Dec (8), 8 (9), 9 (10) -> 9 Dec.
			"CCPA ack across Thanksgiving", ccpa(JurisdictionUSCA, la, local(la, 2025, time.November, 21)),
			deadlineView{"2026-01-05", "2026-01-05T23:59:59-08:00", "2026-01-05", "2025-12-09"}},
		{ // 19 Dec + 45 = Monday 2 Feb 2026. Ack: Fri 19 Dec, 22-24 (3), 25 skipped, 26 (4), 29-31 (7),
			// 1 Jan skipped, 2 (8), 5 (9), 6 (10) -> 6 Jan 2026.
			"CCPA ack across Christmas", ccpa(JurisdictionUSCA, la, local(la, 2025, time.December, 19)),
			deadlineView{"2026-02-02", "2026-02-02T23:59:59-08:00", "2026-02-02", "2026-01-06"}},
		{ // 19 Dec + 90 = Thursday 19 Mar 2026, PDT.
			"CCPA extended across the year end", extended(ccpa(JurisdictionUSCA, la, local(la, 2025, time.December, 19))),
			deadlineView{"2026-03-19", "2026-03-19T23:59:59-07:00", "2026-02-02", "2026-01-06"}},
		{ // 07:30 UTC on 1 Mar is 23:30 PST on Friday 28 Feb in Los Angeles: 28 Feb + 45 = Monday 14 Apr.
			// Ack: 3-7 Mar (5), 10-14 Mar (10) -> 14 Mar.
			"CCPA LA before midnight", ccpa(JurisdictionUSCA, la, utc(t, "2025-03-01T07:30:00Z")),
			deadlineView{"2025-04-14", "2025-04-14T23:59:59-07:00", "2025-04-14", "2025-03-14"}},
		{ // 23:30 UTC on 31 Jan is 15:30 PST on Friday 31 Jan: 31 Jan + 45 = Monday 17 Mar.
			// Ack: 3-7 Feb (5), 10-14 Feb (10) -> 14 Feb (Presidents' Day is 17 Feb).
			"CCPA LA afternoon", ccpa(JurisdictionUSCA, la, utc(t, "2025-01-31T23:30:00Z")),
			deadlineView{"2025-03-17", "2025-03-17T23:59:59-07:00", "2025-03-17", "2025-02-14"}},
		{ // A Norwegian controller under the CCPA: the due date is counted in Oslo, the
			// acknowledgement on the California calendar (Thanksgiving skipped) -> 9 Dec.
			"CCPA for a Norwegian controller", ccpa(JurisdictionNO, oslo, local(oslo, 2025, time.November, 21)),
			deadlineView{"2026-01-05", "2026-01-05T23:59:59+01:00", "2026-01-05", "2025-12-09"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ComputeDeadlines(tt.in)
			if err != nil {
				t.Fatalf("ComputeDeadlines: %v", err)
			}
			if diff := cmp.Diff(tt.want, viewOf(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if !got.At.Equal(got.Due.EndIn(tt.in.Location)) || got.At.Location() != tt.in.Location {
				t.Errorf("At = %v, want Due.EndIn(%v)", got.At, tt.in.Location)
			}
		})
	}
}

func TestComputeDeadlinesInvalid(t *testing.T) {
	oslo := mustLoc(t, "Europe/Oslo")
	valid := DeadlineInput{Regulation: RegulationGDPR, Jurisdiction: JurisdictionNO, Location: oslo, ReceivedAt: local(oslo, 2025, time.April, 17)}
	if _, err := ComputeDeadlines(valid); err != nil {
		t.Fatalf("valid input: %v", err)
	}
	tests := []struct {
		name   string
		modify func(*DeadlineInput)
	}{
		{"nil location", func(in *DeadlineInput) { in.Location = nil }},
		{"no regulation", func(in *DeadlineInput) { in.Regulation = "" }},
		{"unknown regulation", func(in *DeadlineInput) { in.Regulation = "lgpd" }},
		{"no jurisdiction", func(in *DeadlineInput) { in.Jurisdiction = "" }},
		{"unknown jurisdiction", func(in *DeadlineInput) { in.Jurisdiction = "SE" }},
		{"unknown jurisdiction under the CCPA", func(in *DeadlineInput) { in.Regulation = RegulationCCPA; in.Jurisdiction = "US" }},
		{"negative pause", func(in *DeadlineInput) { in.PausedDays = -1 }},
	}
	for _, tt := range tests {
		in := valid
		tt.modify(&in)
		got, err := ComputeDeadlines(in)
		var e *Error
		if !errors.As(err, &e) || e.Code != EINVALID {
			t.Errorf("%s: error = %v, want a *Error with code %s", tt.name, err, EINVALID)
		}
		if got != (Deadlines{}) {
			t.Errorf("%s: got %+v with the error, want zero Deadlines", tt.name, got)
		}
	}
}

func TestPausedDays(t *testing.T) {
	oslo := mustLoc(t, "Europe/Oslo")
	la := mustLoc(t, "America/Los_Angeles")
	tests := []struct {
		name       string
		start, end time.Time
		loc        *time.Location
		want       int
	}{
		{"same instant", local(oslo, 2025, time.May, 5), local(oslo, 2025, time.May, 5), oslo, 0},
		{"same local day", time.Date(2025, time.May, 5, 0, 1, 0, 0, oslo), time.Date(2025, time.May, 5, 23, 59, 0, 0, oslo), oslo, 0},
		// 00:30 CET to 23:30 CEST on 30 Mar, the 23-hour day: the same Oslo day
		// (in UTC it runs from 29 Mar 23:30 to 30 Mar 21:30, two dates).
		{"same day across spring DST", utc(t, "2025-03-29T23:30:00Z"), utc(t, "2025-03-30T21:30:00Z"), oslo, 0},
		// 23:00 CET on Sat 29 Mar to 00:30 CEST on Mon 31 Mar: two local dates
		// on, although only 24.5 hours (one UTC date) pass.
		{"midnight and spring DST", utc(t, "2025-03-29T22:00:00Z"), utc(t, "2025-03-30T22:30:00Z"), oslo, 2},
		{"same instants in UTC", utc(t, "2025-03-29T22:00:00Z"), utc(t, "2025-03-30T22:30:00Z"), time.UTC, 1},
		// 23:30 CEST on 1 Jun to 00:30 on 2 Jun in Oslo: one hour, one day.
		{"across Oslo midnight", utc(t, "2025-06-01T21:30:00Z"), utc(t, "2025-06-01T22:30:00Z"), oslo, 1},
		// 02:30 CEST on 26 Oct to 02:30 CET on 26 Oct: an hour apart, same day.
		{"repeated hour in autumn", utc(t, "2025-10-26T00:30:00Z"), utc(t, "2025-10-26T01:30:00Z"), oslo, 0},
		// 23:00 PDT on Sat 1 Nov to 23:30 PST on Sun 2 Nov: 25.5 hours, one date.
		{"LA autumn DST", time.Date(2025, time.November, 1, 23, 0, 0, 0, la), time.Date(2025, time.November, 2, 23, 30, 0, 0, la), la, 1},
		// One second, over midnight into the LA spring change day.
		{"one second over midnight", time.Date(2025, time.March, 8, 23, 59, 59, 0, la), time.Date(2025, time.March, 9, 0, 0, 0, 0, la), la, 1},
		// The instants may be in any zone; the count is in loc. 10 Jan 15:00 PST is
		// 11 Jan 00:00 CET; 10 Mar 12:00 UTC is 10 Mar in Oslo: 20 + 28 + 10 = 58.
		{"zones of the instants do not matter", time.Date(2025, time.January, 10, 15, 0, 0, 0, la), utc(t, "2025-03-10T12:00:00Z"), oslo, 58},
		{"end before start", local(oslo, 2025, time.May, 10), local(oslo, 2025, time.May, 5), oslo, 0},
		{"a leap February", local(oslo, 2028, time.February, 1), local(oslo, 2028, time.March, 1), oslo, 29},
		{"nil location is UTC", utc(t, "2025-06-01T21:30:00Z"), utc(t, "2025-06-01T22:30:00Z"), nil, 0},
	}
	for _, tt := range tests {
		if got := PausedDays(tt.start, tt.end, tt.loc); got != tt.want {
			t.Errorf("%s: PausedDays = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// FuzzComputeDeadlines checks the invariants of the deadline arithmetic for
// any receipt instant, zone, jurisdiction and pause. The seed corpus runs in
// every `go test`; `go test -fuzz FuzzComputeDeadlines` explores further.
func FuzzComputeDeadlines(f *testing.F) {
	zones := []*time.Location{
		mustLoc(f, "Europe/Oslo"), mustLoc(f, "Europe/Vilnius"), mustLoc(f, "America/Los_Angeles"), time.UTC,
		mustLoc(f, "Pacific/Kiritimati"), mustLoc(f, "Pacific/Pago_Pago"), // +14:00 and -11:00
	}
	for _, seed := range []struct {
		unix    int64
		zone, j uint8
		ccpa    bool
		paused  uint16
	}{
		{utc(f, "2025-04-17T10:00:00Z").Unix(), 0, 0, false, 0},
		{utc(f, "2025-01-31T23:30:00Z").Unix(), 0, 0, false, 0},
		{utc(f, "2025-03-29T23:30:00Z").Unix(), 0, 0, false, 1},
		{utc(f, "2025-03-29T22:30:00Z").Unix(), 1, 1, false, 0},
		{utc(f, "2025-11-24T09:00:00Z").Unix(), 1, 1, false, 0},
		{utc(f, "2025-03-17T09:00:00Z").Unix(), 0, 0, false, 14},
		{utc(f, "2025-03-01T07:30:00Z").Unix(), 2, 2, true, 0},
		{utc(f, "2025-11-21T18:00:00Z").Unix(), 2, 2, true, 3},
		{utc(f, "2025-12-19T18:00:00Z").Unix(), 0, 0, true, 0},
		{utc(f, "2032-01-31T12:00:00Z").Unix(), 3, 0, false, 0},
		{utc(f, "2027-11-30T12:00:00Z").Unix(), 4, 1, false, 365},
		{utc(f, "1999-12-31T23:59:59Z").Unix(), 5, 2, false, 0},
		{0, 0, 0, false, 0},
		{-1, 5, 4, true, 65535},
	} {
		f.Add(seed.unix, seed.zone, seed.j, seed.ccpa, seed.paused)
	}

	span := time.Date(2200, time.January, 1, 0, 0, 0, 0, time.UTC).Unix() // receipts from 1970 to 2200
	f.Fuzz(func(t *testing.T, unix int64, zone, j uint8, isCCPA bool, pausedRaw uint16) {
		loc := zones[int(zone)%len(zones)]
		juris := Jurisdictions[int(j)%len(Jurisdictions)]
		received := time.Unix(((unix%span)+span)%span, 0).UTC()
		paused := int(pausedRaw % 400)
		reg := RegulationGDPR
		if isCCPA {
			reg = RegulationCCPA
		}
		in := DeadlineInput{Regulation: reg, Jurisdiction: juris, Location: loc, ReceivedAt: received, PausedDays: paused}
		plain, err := ComputeDeadlines(in)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		in.Extended = true
		ext, err := ComputeDeadlines(in)
		if err != nil {
			t.Fatalf("%+v extended: %v", in, err)
		}
		receipt := DateOf(received.In(loc))
		cal := mustCalendar(t, juris)
		usca := mustCalendar(t, JurisdictionUSCA)

		for _, dl := range []Deadlines{plain, ext} {
			// At is the end of the due day in the controller's zone.
			at := dl.At.In(loc)
			if !dl.At.Equal(dl.Due.EndIn(loc)) || DateOf(at) != dl.Due ||
				at.Hour() != 23 || at.Minute() != 59 || at.Second() != 59 {
				t.Errorf("%+v: At %v is not the end of %v in %v", in, dl.At, dl.Due, loc)
			}
			if !dl.At.After(received) {
				t.Errorf("%+v: At %v is not after the receipt %v", in, dl.At, received)
			}
			// The notice date is the unextended due date.
			if dl.ExtensionNoticeBy != plain.Due {
				t.Errorf("%+v: ExtensionNoticeBy %v, want the unextended due %v", in, dl.ExtensionNoticeBy, plain.Due)
			}
		}
		if ext.Due.Before(plain.Due) {
			t.Errorf("%+v: extended due %v before the unextended %v", in, ext.Due, plain.Due)
		}

		switch reg {
		case RegulationGDPR:
			for _, c := range []struct {
				months int
				dl     Deadlines
			}{{1, plain}, {3, ext}} {
				// Due is receipt + n months + the pause, moved at most a few
				// days (the longest run of non-working days is 5: Easter in
				// Norway, Christmas in Lithuania).
				base := receipt.AddMonths(c.months).AddDays(paused)
				if c.dl.Due.Before(base) || c.dl.Due.Sub(base) > 5 {
					t.Errorf("%+v: due %v, want within 5 days from %v", in, c.dl.Due, base)
				}
				if !cal.IsWorkingDay(c.dl.Due) {
					t.Errorf("%+v: due %v is not a working day in %s", in, c.dl.Due, juris)
				}
				// Nothing between the base date and the due date is a working day.
				for day := base; day.Before(c.dl.Due); day = day.AddDays(1) {
					if cal.IsWorkingDay(day) {
						t.Errorf("%+v: due %v, but %v is an earlier working day", in, c.dl.Due, day)
					}
				}
				// One month is at least 28 days, three at least 89.
				if n := c.dl.Due.Sub(receipt) - paused; n < 28*c.months {
					t.Errorf("%+v: due %v only %d days after receipt %v", in, c.dl.Due, n, receipt)
				}
			}
			if !plain.AcknowledgeBy.IsZero() || !ext.AcknowledgeBy.IsZero() {
				t.Errorf("%+v: GDPR AcknowledgeBy is set", in)
			}
		case RegulationCCPA:
			if want := receipt.AddDays(45 + paused); plain.Due != want {
				t.Errorf("%+v: due %v, want %v", in, plain.Due, want)
			}
			if want := receipt.AddDays(90 + paused); ext.Due != want {
				t.Errorf("%+v: extended due %v, want %v", in, ext.Due, want)
			}
			// Ten business days take 12 (receipt on a Sunday) to 14 calendar
			// days, plus the holidays in between.
			ack := plain.AcknowledgeBy
			if n := ack.Sub(receipt); n < 12 || n > 21 || !usca.IsWorkingDay(ack) {
				t.Errorf("%+v: AcknowledgeBy %v (%d days after %v)", in, ack, n, receipt)
			}
			if ext.AcknowledgeBy != ack {
				t.Errorf("%+v: the extension moved AcknowledgeBy", in)
			}
		}
	})
}
