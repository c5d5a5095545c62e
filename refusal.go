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

// ObjectionKind says which objection of Art 21 a request makes: to direct
// marketing, which is absolute (Art 21(2)-(3)), or to processing on
// legitimate interest or public task, which compelling grounds may override
// (Art 21(1)). Empty until the subject, the calling system or an officer
// says which.
type ObjectionKind string

// The kinds of objection.
const (
	ObjectionDirectMarketing ObjectionKind = "direct_marketing" // Art 21(2): stop at once, never refused on the merits
	ObjectionLegitimate      ObjectionKind = "art21_1"          // Art 21(1): legitimate interest or public task
)

// ObjectionKinds lists the kinds of objection.
var ObjectionKinds = []ObjectionKind{ObjectionDirectMarketing, ObjectionLegitimate}

// Valid reports whether k is a known kind of objection.
func (k ObjectionKind) Valid() bool { return slices.Contains(ObjectionKinds, k) }

// groundTypes maps each ground to the request types it may refuse (Art
// 12(4) with the article that gives the ground). Art 12(5) and 11(2) serve
// every type but a consent withdrawal, which only an unsettled identity can
// stop (Art 7(3)).
var groundTypes = map[Ground][]RequestType{
	GroundManifestlyUnfounded: {TypeAccess, TypeRectification, TypeErasure, TypeRestriction, TypePortability, TypeObjection, TypeAutomatedDecision},
	GroundIdentity:            RequestTypes,
	GroundOthersRights:        {TypeAccess, TypePortability},
	GroundNotInaccurate:       {TypeRectification},
	GroundFreeExpression:      {TypeErasure},
	GroundLegalObligation:     {TypeErasure},
	GroundPublicHealth:        {TypeErasure},
	GroundArchiving:           {TypeErasure},
	GroundLegalClaims:         {TypeErasure},
	GroundRestrictionNotMet:   {TypeRestriction},
	GroundNotPortable:         {TypePortability},
	GroundCompellingGrounds:   {TypeObjection},
	GroundAutomatedAllowed:    {TypeAutomatedDecision},
}

// GroundsFor returns the grounds on which a request of type t (and, for an
// objection, of kind k) may be refused.
func GroundsFor(t RequestType, k ObjectionKind) []Ground {
	var out []Ground
	for _, g := range Grounds {
		if CheckGround(g, t, k) == nil {
			out = append(out, g)
		}
	}
	return out
}

// CheckGround reports whether a request of type t (an objection of kind k)
// may be refused on ground g; the error names the ground and the type.
func CheckGround(g Ground, t RequestType, k ObjectionKind) error {
	if !g.Valid() {
		return Invalid(FieldError{Field: "ground", Message: "field.enum", Params: map[string]any{"allowed": Grounds}})
	}
	params := map[string]any{"ground": string(g), "type": string(t)}
	if !slices.Contains(groundTypes[g], t) {
		return Invalid(FieldError{Field: "ground", Message: "error.ground.not_for_type", Params: params})
	}
	if g == GroundCompellingGrounds {
		switch k {
		case ObjectionDirectMarketing:
			return Invalid(FieldError{Field: "ground", Message: "error.ground.direct_marketing", Params: params})
		case "":
			return Invalid(FieldError{Field: "ground", Message: "error.ground.objection_kind", Params: params})
		}
	}
	return nil
}
