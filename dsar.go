// Package dsar is the domain of the data-subject rights service: request
// types, statuses and their allowed transitions, controllers and their
// jurisdictions, the statutory deadline arithmetic, error codes, and the
// interfaces that the adapters (store, workflows, api) implement.
//
// The package imports only the standard library and small field libraries
// (holiday calendars, YAML); everything that talks to the outside world lives
// in the sub-packages and points inward to this one.
package dsar
