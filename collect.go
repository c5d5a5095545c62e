package dsar

import "time"

// FetchAfter is how soon a worker fetches the data of an export that a
// callback says is ready elsewhere (an HTTP system's data_url, an OpenDSR
// processor's results_url): the callback's answer never waits for it.
const FetchAfter = time.Second

// MaxExportUpload bounds the file of data an officer hands in for an export
// task they did by hand.
const MaxExportUpload = 64 << 20
