package dsar

// Regulation is the law a request is handled under; it sets the periods.
type Regulation string

// The regulations.
const (
	RegulationGDPR Regulation = "gdpr" // one month, extendable by two (Art 12(3))
	RegulationCCPA Regulation = "ccpa" // 45 days, extendable by 45 (11 CCR §7021)
)

// Regulations lists every regulation.
var Regulations = []Regulation{RegulationGDPR, RegulationCCPA}

// Valid reports whether r is a known regulation.
func (r Regulation) Valid() bool { return r == RegulationGDPR || r == RegulationCCPA }

// Jurisdiction is where a controller is established; it sets the public
// holidays that move a deadline. Codes are ISO 3166-1 alpha-2, with the
// ISO 3166-2 subdivision where holidays differ by state (US-CA).
type Jurisdiction string

// The jurisdictions with a holiday calendar.
const (
	JurisdictionNO   Jurisdiction = "NO"
	JurisdictionLT   Jurisdiction = "LT"
	JurisdictionUSCA Jurisdiction = "US-CA"
)

// Jurisdictions lists every supported jurisdiction.
var Jurisdictions = []Jurisdiction{JurisdictionNO, JurisdictionLT, JurisdictionUSCA}

// Valid reports whether j has a holiday calendar.
func (j Jurisdiction) Valid() bool {
	return j == JurisdictionNO || j == JurisdictionLT || j == JurisdictionUSCA
}
