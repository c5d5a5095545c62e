package dsar

import "slices"

// Ground is the legal ground of a refusal or partial refusal; the subject is
// told it, with the right to complain (Art 12(4)).
type Ground string

// The refusal grounds.
const (
	GroundManifestlyUnfounded Ground = "art12_5"   // manifestly unfounded or excessive (Art 12(5)(b))
	GroundIdentity            Ground = "art11_2"   // the subject's identity could not be established (Art 11(2), 12(2))
	GroundOthersRights        Ground = "art15_4"   // a copy would adversely affect the rights of others (Art 15(4))
	GroundNotInaccurate       Ground = "art16"     // the data was not shown to be inaccurate (Art 16)
	GroundFreeExpression      Ground = "art17_3_a" // freedom of expression and information (Art 17(3)(a))
	GroundLegalObligation     Ground = "art17_3_b" // a legal obligation, such as bookkeeping (Art 17(3)(b))
	GroundPublicHealth        Ground = "art17_3_c" // public health (Art 17(3)(c))
	GroundArchiving           Ground = "art17_3_d" // archiving, research or statistics (Art 17(3)(d))
	GroundLegalClaims         Ground = "art17_3_e" // legal claims (Art 17(3)(e))
	GroundRestrictionNotMet   Ground = "art18_1"   // none of the grounds of Art 18(1) applies
	GroundNotPortable         Ground = "art20_1"   // not processed on consent or contract by automated means (Art 20(1))
	GroundCompellingGrounds   Ground = "art21_1"   // compelling legitimate grounds override the objection (Art 21(1))
	GroundAutomatedAllowed    Ground = "art22_2"   // the decision is allowed by Art 22(2); human review still offered
)

// Grounds lists every refusal ground.
var Grounds = []Ground{
	GroundManifestlyUnfounded, GroundIdentity, GroundOthersRights, GroundNotInaccurate,
	GroundFreeExpression, GroundLegalObligation, GroundPublicHealth, GroundArchiving, GroundLegalClaims,
	GroundRestrictionNotMet, GroundNotPortable, GroundCompellingGrounds, GroundAutomatedAllowed,
}

// Valid reports whether g is a known ground.
func (g Ground) Valid() bool { return slices.Contains(Grounds, g) }
