package templates

import (
	"strings"

	"github.com/dsar-project/dsar"
)

// DataMapPage is a controller's data map as its officers, auditors and
// admins read it: the connected systems, the data categories and the
// recipients, as the controllers file describes them.
type DataMapPage struct {
	Page
	// Controllers are the controllers the user may read, to choose from
	// when there are several; Controller is the one shown.
	Controllers []DataMapLink
	Controller  *dsar.Controller
}

// DataMapLink is a controller to show the data map of.
type DataMapLink struct {
	Key, Name string
	Current   bool
}

// CategoryName names one of the controller's data categories by its key,
// the key itself when the data map has no such category.
func (p DataMapPage) CategoryName(key string) string {
	if d, ok := p.Controller.DataCategory(key); ok {
		return d.Name
	}
	return key
}

// RecipientName names one of the controller's recipients by its key, the
// key itself when the data map has no such recipient.
func (p DataMapPage) RecipientName(key string) string {
	if r, ok := p.Controller.Recipient(key); ok {
		return r.Name
	}
	return key
}

// Period writes a retention period in the page's language ("5 years",
// "1 year, 6 months").
func (p DataMapPage) Period(rp dsar.RetentionPeriod) string {
	var parts []string
	for _, u := range []struct {
		n          int
		one, other string
	}{
		{rp.Years, "page.datamap.years.one", "page.datamap.years.other"},
		{rp.Months, "page.datamap.months.one", "page.datamap.months.other"},
		{rp.Days, "unit.days.one", "unit.days.other"},
	} {
		switch u.n {
		case 0:
		case 1:
			parts = append(parts, T(p.Lang, u.one, map[string]any{"n": u.n}))
		default:
			parts = append(parts, T(p.Lang, u.other, map[string]any{"n": u.n}))
		}
	}
	return strings.Join(parts, ", ")
}
