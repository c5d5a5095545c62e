package dsar

import "net/url"

// The purposes of the keyring's tokens and codes: each purpose derives its
// own secrets from the same key, so a token of one never opens another.
const (
	TokenVerify = "verify" // a verification link and code
	TokenStatus = "status" // a status page link
	// TokenTaskCallback is the token in a task's callback URL, which a
	// system (HTTP connector) or a processor (OpenDSR) answers a task on
	// later.
	TokenTaskCallback = "task_callback"
	// TokenVendorConfirm is the token in a vendor's confirmation link.
	TokenVendorConfirm = "vendor_confirm"
	// TokenSuppression keys the hashes of the suppression list.
	TokenSuppression = "suppression"
	// TokenDownload derives the e-mailed codes that open the subject's
	// files.
	TokenDownload = "download"
)

// The paths the service's mails and pages link to, relative to its base URL.

// StatusPath is the subject's status page of a status token.
func StatusPath(token string) string { return "/s/" + token }

// VerifyPath is the verification link of a verification token.
func VerifyPath(token string) string { return "/v/" + token }

// CasePath is an officer's page of a case.
func CasePath(id string) string { return "/cases/" + url.PathEscape(id) }

// QueuePath is the officers' queue.
const QueuePath = "/queue"

// TaskCallbackPath is where a system answers a task later (HTTP connector),
// with the task's callback token.
func TaskCallbackPath(taskID, token string) string {
	return "/api/v1/tasks/" + url.PathEscape(taskID) + "/callback?token=" + url.QueryEscape(token)
}

// OpenDSRCallbackPath is where an OpenDSR processor posts the status of a
// task's request (its status_callback_urls), with the task's callback token.
func OpenDSRCallbackPath(taskID, token string) string {
	return "/api/v1/opendsr/callback/" + url.PathEscape(taskID) + "?token=" + url.QueryEscape(token)
}

// VendorConfirmPath is the page on which a vendor confirms a task.
func VendorConfirmPath(taskID, token string) string {
	return "/vendor/tasks/" + url.PathEscape(taskID) + "/" + url.PathEscape(token)
}
