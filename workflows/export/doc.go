// Package export turns the data a case's export tasks collected into what
// the subject receives: the answer to an access request (GDPR Art 15) as a
// readable HTML page or as JSON (WriteReportHTML, WriteReportJSON), and the
// portability package of Art 20 as a ZIP of one JSON and one CSV file per
// system and data category with a manifest (WritePackage).
//
// The collected data is JSON Lines of dsar.ExportRecord, one blob per
// export task (dsar.ExportBlobKey), read through dsar.Blobs. Nothing here
// holds a system's data whole: every output is written while the blobs are
// read, so memory stays the same for a thousand records or a million. A
// system's blob is read more than once instead: a first pass finds its
// categories, their record counts and their columns (the union of the
// records' top-level keys), then one pass per category writes that
// category's records, and for the package one more writes its CSV rows.
// What the answer says besides the data is decided in the domain
// (dsar.NewAccessReport, dsar.Controller.Portable); this package renders it.
package export
