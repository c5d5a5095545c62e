package templates

import (
	"slices"
	"time"

	"github.com/dsar-project/dsar"
)

// Page is what every page shows: its language, the links to the same page
// in the other languages, the controller's brand and contact (on pages of one
// controller), and the CSRF token of its forms.
type Page struct {
	Lang dsar.Language
	// Path is the page's path without a query, for the language switch
	// (Path?lang=nb, Path?lang=en).
	Path string
	// Brand is the controller's brand; the zero Brand on pages of no
	// controller.
	Brand Brand
	// ContactEmail is the controller's privacy contact, when there is one.
	ContactEmail string
	// CSRF is the token every form of the page sends back as "_csrf".
	CSRF string
	// Title is the page's own title (a catalog key's text), shown in the
	// <title> and as the first heading.
	Title string
	// Staff is the navigation of a signed-in officer's page, which is drawn
	// wide for work at a desk; nil on the subjects' pages.
	Staff *Staff
}

// Staff is what the staff pages' navigation shows: the sections the user
// may open and who is signed in.
type Staff struct {
	User string // the signed-in user's e-mail address
	// Section is the current section: "queue", "dashboard", "datamap",
	// "mailbox", "monitor", "admin" or "account".
	Section string
	// Mailbox, Monitor and Admin offer the local mailbox (the embedded
	// default), the queue monitor and the administration (admins only).
	Mailbox, Monitor, Admin bool
	// Orgs names the organisations by their keys, so that pages show
	// names, never keys.
	Orgs map[string]string
}

// Org returns the name of the organisation of a key, the key itself when it
// has none.
func (s *Staff) Org(key string) string {
	if s == nil {
		return key
	}
	if n, ok := s.Orgs[key]; ok {
		return n
	}
	return key
}

// ControllerLink is one controller on the index page.
type ControllerLink struct {
	Key, Name, Jurisdiction string
}

// IndexPage lists the controllers a subject can send a request to.
type IndexPage struct {
	Page
	Controllers []ControllerLink
}

// FormValues holds the values of the request form as the subject typed
// them, kept when the form comes back with errors.
type FormValues struct {
	Type, Email, Name, Phone, CustomerID, Details, Language string
	// TransmitTo is the portability recipient (its key, or "other") a
	// portability request asks the data to be sent to directly, and
	// TransmitOrganisation the organisation the subject named (optional).
	TransmitTo, TransmitOrganisation string
	// Inaccurate and Correct are what is wrong and what is right, for a
	// rectification request.
	Inaccurate, Correct string
	// Objection is the kind of objection the subject chose ("" when unsure).
	Objection string
	// Regulation is the law the subject makes the request under ("" for
	// the controller's default).
	Regulation string
}

// TransmissionView is the direct transmission of a portability case's
// package to another organisation, as the status and case pages show it.
type TransmissionView struct {
	// Organisation is whom the package is for; Other says the subject
	// named it (it is not set up for direct transmission).
	Organisation string
	Other        bool
	// State is "" until the case is completed.
	State dsar.TransmitState
	// At is when it was received, or failed for good (zero before).
	At time.Time
	// Receipt is the recipient's receipt, SHA256 what was sent.
	Receipt, SHA256 string
	// Attempts, Status and Reason are the tries, the last answer's
	// status and why the last try failed (the case page).
	Attempts, Status int
	Reason           string
}

// Choice is one choice of a list: its value and the name people read.
type Choice struct {
	Key, Name string
}

// FormPage is a controller's request form.
type FormPage struct {
	Page
	ControllerKey string
	// Types lists the rights the form offers, in order; each is explained by
	// the catalog keys right.<type>.title and right.<type>.explanation.
	Types []dsar.RequestType
	// Identifiers are the extra identifiers the controller asks for
	// ("customer_id", "phone").
	Identifiers []string
	// Regulations are those a request may be made under, the controller's
	// default first; the form offers a choice when there is more than one.
	Regulations []dsar.Regulation
	// Recipients are the organisations a portability request's data can
	// be sent to directly; the form offers them as choices.
	Recipients []Choice
	Values     FormValues
	// Errors maps a field name (as in FormValues, lower-case: "email",
	// "type", "details", …) to its message, already in the page's language.
	Errors map[string]string
	// Honeypot is the name of the hidden field that people leave empty.
	Honeypot string
}

// ConfirmLinkPage is what the e-mailed verification link opens: a button
// that confirms the request (opening the link alone changes nothing).
type ConfirmLinkPage struct {
	Page
	// Action is where the confirm form posts; Reference the request's.
	Action, Reference string
	// Used says the link confirmed the request before; the button then
	// leads to the status page.
	Used bool
}

// CheckEmailPage tells the subject to look for the verification mail and
// takes the 6-digit code.
type CheckEmailPage struct {
	Page
	// Action is where the code form posts, and Resend where the resend
	// form posts.
	Action, Resend string
	// MaskedEmail is the address the mail went to, partly hidden (k***@example.no).
	MaskedEmail string
	// Error is the message for a wrong, expired or used-up code, if any;
	// Notice a neutral message (a new code was sent).
	Error, Notice string
	// ExpiresHours is how long a code is valid.
	ExpiresHours int
}

// HistoryItem is one step of a request as its subject sees it.
type HistoryItem struct {
	At   time.Time
	Text string
}

// MessageItem is one message between the controller and the subject.
type MessageItem struct {
	At          time.Time
	FromSubject bool
	Kind        string // "clarification", "identity", "reply", "note", "fee", "reopened"
	Body        string
	// Author names the colleague who wrote it, by e-mail (officers' view).
	Author string
}

// StatusPage is the subject's page of one request.
type StatusPage struct {
	Page
	Reference  string
	Type       dsar.RequestType
	Status     dsar.Status
	ReceivedAt time.Time
	DueDate    string // YYYY-MM-DD
	Extended   bool
	History    []HistoryItem
	Messages   []MessageItem
	// ReplyAction is where the answer form posts; empty when the controller
	// is not waiting for the subject. ReplyKind says what it waits for
	// ("clarification" or "identity").
	ReplyAction, ReplyKind string
	// WithdrawAction is where the withdraw button posts; empty once the
	// request is closed.
	WithdrawAction string
	// Download is the part about the files of a completed access or
	// portability case; nil when the case gives none.
	Download *DownloadSection
	// Transmission is the direct transmission of the portable package the
	// subject asked for; nil when none.
	Transmission *TransmissionView
	// Error and Notice are messages about the last form sent.
	Error, Notice string
}

// DownloadSection is where the subject downloads the files of a completed
// access or portability case with an e-mailed code: while the download is
// open, the files, until when and how many more times, and the forms; once
// it is over, only Gone, which says why, and NewRequest, the form to ask
// again.
type DownloadSection struct {
	Files []DownloadFile
	// Until is the end of the window, in the controller's zone; Left how
	// many downloads remain; CodeMinutes how long a code is valid.
	Until       time.Time
	Left        int
	CodeMinutes int
	// CodeAction is where the button that mails a code posts;
	// DownloadAction where the code and the chosen file post.
	CodeAction, DownloadAction string
	// CodeError is the error of the code field of the last form sent.
	CodeError        string
	Gone, NewRequest string
}

// DownloadFile is one file the subject can download: its name (a
// dsar.Result* name) and size.
type DownloadFile struct {
	Name  string
	Bytes int64
}

// MailboxEntry is one message of the local mailbox.
type MailboxEntry struct {
	Name    string // the file name, for the link
	Date    time.Time
	From    string
	To      string
	Subject string
}

// MailboxPage shows the local mailbox of the embedded default to an
// administrator: the list, and one message's text when Open is set.
type MailboxPage struct {
	Page
	Entries []MailboxEntry
	Open    *MailboxEntry
	Text    string
}

// SignInPage is the officers' sign-in form.
type SignInPage struct {
	Page
	Email string
	// Next is where to go after signing in (a local path).
	Next string
	// SSOName, when set, offers single sign-on with this provider.
	SSOName       string
	Error, Notice string
}

// PasswordPage is the form to change one's password.
type PasswordPage struct {
	Page
	MinLength     int
	Error, Notice string
}

// QueueRow is one case in the officers' queue.
type QueueRow struct {
	ID, Reference, Controller string
	Type                      dsar.RequestType
	Status                    dsar.Status
	Received                  string // YYYY-MM-DD, controller-local
	DueDate                   string // YYYY-MM-DD
	// Assignee names who works the case, by e-mail ("" for nobody).
	Assignee string
	DaysLeft int
	Overdue  bool
	// Assigned says somebody works the case; Duplicate that it repeats an
	// open request of the same subject; Approved that it is approved for
	// execution; Replied that the subject answered and no officer has worked
	// the case since.
	Assigned, Duplicate, Approved, Replied bool
	// Tasks is how far the case's tasks in the systems have come; nil
	// when it has none.
	Tasks *dsar.TaskProgress
}

// CaseEvent is one line of a case's full timeline.
type CaseEvent struct {
	At time.Time
	// Task describes a task event: the target, the action and the change.
	Task string
	// Actor names who acted: a colleague by e-mail, the subject, the
	// service, or an API key by its ID.
	Actor  string
	Kind   string
	From   dsar.Status
	To     dsar.Status
	Reason string
	// Mail is the template of the mail a mail_sent event sent.
	Mail string
}

// CasePage is an officer's view of one case: the subject, the request, its
// deadlines, the full timeline, the messages, and the actions the officer
// may take (when CanChange).
type CasePage struct {
	Page
	ID, Reference, Controller string
	Type                      dsar.RequestType
	Status                    dsar.Status
	Regulation                dsar.Regulation
	SubjectEmail, SubjectName string
	// SubjectIDs are the other identifiers the subject gave (customer
	// number, phone), joined for display; Language the language the
	// subject is answered in.
	SubjectIDs                 string
	Language                   dsar.Language
	Details                    string
	ReceivedAt                 time.Time
	DueDate, ExtensionNoticeBy string // YYYY-MM-DD
	DaysLeft                   int
	Overdue, Extended, Paused  bool
	Verification               string // "by whom, how" or ""
	// Agent is the authorised agent who made the request for the subject
	// (CCPA), nil when the subject made it.
	Agent    *dsar.Agent
	Timeline []CaseEvent
	Messages []MessageItem
	// Documents are the identity documents awaiting the check, shown to
	// the officers and admins of the controller (each view is audited).
	Documents []DocumentItem
	// Actions are what the viewer may do to the case now (dsar.Actions):
	// the page offers exactly these.
	Actions []dsar.Action
	// Objection is the kind of objection an objection request makes, "" until
	// someone says which.
	Objection dsar.ObjectionKind
	// DuplicateOf is the ID of the open request this one likely repeats.
	DuplicateOf string
	// CopiesGiven counts the subject's earlier answered access requests:
	// this one asks for a further copy (Art 15(3)).
	CopiesGiven int
	// Assignee names who works the case; AssignedToMe says it is the viewer.
	Assignee     string
	AssigneeID   string
	AssignedToMe bool
	// Workers are the people the case may be assigned to.
	Workers []Worker
	// ApprovedBy and ApprovedAt say who approved the case for execution and
	// when (empty when not approved).
	ApprovedBy string
	ApprovedAt time.Time
	// Grounds are the refusal grounds that fit the request's type.
	Grounds []dsar.Ground
	// Plan is what approving the case would do in the connected systems
	// (shown while the case can be approved); Tasks what it does since.
	Plan  *PlanView
	Tasks []TaskRow
	// Results are the subject's files of an access or portability case
	// whose tasks have ended.
	Results *ResultsView
	// Transmission is the direct transmission the subject asked for; nil
	// when none.
	Transmission *TransmissionView
	// FailedTasks counts the failed tasks an officer may retry at once.
	FailedTasks int
	Error       string
	Notice      string
}

// PlanView is a case's plan before approval: a row per task (an officer
// may leave any out with a reason), what a legal hold keeps, and the
// recipients that cannot be told.
type PlanView struct {
	Tasks       []TaskRow
	Held        []HeldRow
	Unreachable []HeldRow
}

// HeldRow is a kept category (what, the law, until when), or a recipient
// that cannot be told of a change (what, why).
type HeldRow struct {
	What, Why, Until string
}

// ResultsView is what the case page shows of the files an access or
// portability case gives its subject: the files to review (none while they
// are assembled), the download window once released, the records left out,
// and the done exports a record can be left out of.
type ResultsView struct {
	Files         []ResultFileView
	AssembledAt   *time.Time
	DownloadUntil *time.Time
	Downloads     int
	MaxDownloads  int
	Redactions    []RedactionRow
	Exports       []ExportOption
}

// ResultFileView is one of the subject's files: its name (dsar.ResultNames),
// size and SHA-256, and where an officer reads it.
type ResultFileView struct {
	Name   string
	Bytes  int64
	SHA256 string
	URL    string
}

// RedactionRow is a record left out of the subject's files, and why.
type RedactionRow struct {
	System string
	Line   int
	Reason string
	By     string
	At     time.Time
}

// ExportOption is a done export task whose records can be left out.
type ExportOption struct {
	ID    string
	Name  string
	Count int
}

// TaskRow is one task of a case in one system or to one recipient.
type TaskRow struct {
	ID, Target, Name string
	Recipient        bool
	Action           dsar.TaskAction
	Connector        dsar.ConnectorKind
	Status           dsar.TaskStatus
	Categories       string
	Count            int
	// Instructions and Checklist say what an officer does for a manual
	// task still to be done.
	Instructions string
	Checklist    []string
	// Answer is a failing system's last answer; Reason why a task was
	// skipped or failed; Evidence what the person who did it wrote.
	Answer, Reason, Evidence string
	// ExpectedBy is when a waiting system is expected to answer, DueAt
	// when a person's task is due; Overdue says the time has passed.
	ExpectedBy, DueAt *time.Time
	Overdue           bool
	// What the viewer may do with the task now.
	CanDone, CanSkip, CanRetry bool
}

// Can reports whether the page offers the action.
func (p CasePage) Can(action string) bool { return slices.Contains(p.Actions, dsar.Action(action)) }

// CanChange reports whether the page offers any action.
func (p CasePage) CanChange() bool { return len(p.Actions) > 0 }

// DocumentItem is one identity document on the case page.
type DocumentItem struct {
	ID, FileName string
	Size         int
	At           time.Time
}

// Worker is an officer or admin a case may be assigned to.
type Worker struct{ ID, Email string }

// QueueFilter is the queue's filter form as the officer set it.
type QueueFilter struct {
	Controller, Type, Status, Search string
	// Assignee is a user's ID, dsar.Unassigned or "" for anyone; Approval
	// is "pending" (in progress, not approved), "approved" or "".
	Assignee, Approval string
	// Notice selects cases whose extension must be announced within a week.
	Overdue, Mine, Notice bool
	// Tasks is dsar.TasksFailing for the cases with a failed or overdue
	// task, "" for all.
	Tasks string
}

// Active counts the filters set, for the filter panel's summary.
func (f QueueFilter) Active() int {
	n := 0
	for _, set := range []bool{f.Controller != "", f.Type != "", f.Status != "", f.Search != "", f.Assignee != "",
		f.Approval != "", f.Tasks != "", f.Overdue, f.Mine, f.Notice} {
		if set {
			n++
		}
	}
	return n
}

// QueuePage is the officers' queue of open cases, most urgent first.
type QueuePage struct {
	Page
	// Controllers are those the officer may filter by.
	Controllers []string
	Types       []dsar.RequestType
	Statuses    []dsar.Status
	Workers     []Worker
	Filter      QueueFilter
	// CSV is the link to the current filter as CSV; Bulk where the bulk
	// actions on the filter post, empty for those who may change nothing
	// (auditors).
	CSV, Bulk string
	// Notice reports the last bulk action; Error a bad filter, already in
	// the page's language (and then there are no Rows).
	Notice, Error string
	Rows          []QueueRow
	// Total is how many cases the filter selects over all pages.
	Total int
	// NextPage is the link to the following page, empty on the last.
	NextPage string
	// SortDue and SortReceived are the filter sorted by due date and by
	// receipt; Sort the current order.
	SortDue, SortReceived, Sort string
}

// BulkPage asks an officer to confirm a bulk action: what it does, to how
// many and which cases, and which of the filter's cases it leaves alone.
type BulkPage struct {
	Page
	// Action is "assign_me", "approve" or "note"; Body the note it carries.
	Action, Body string
	// Cases are those the action will change; Skipped counts the filter's
	// cases it does not fit (already approved, not in progress, closed).
	Cases   []QueueRow
	Skipped int
	// Confirm is where the confirmation posts; Back the queue with the
	// same filter.
	Confirm, Back string
}

// ErrorPage explains that something went wrong (a link that expired, a page
// that does not exist, too many attempts).
type ErrorPage struct {
	Page
	Message string
	Status  int
}

// VendorPage is the page on which a processor or vendor confirms the task
// it was instructed to do by mail (vendor_instruction): what was asked,
// with no more about the person than the instruction had, and a form to
// say it is done (with a count) or that there is no data, with evidence.
type VendorPage struct {
	Page
	// Action is where the form posts; State is "" for the form, "thanks"
	// once the confirmation is recorded, "ended" when the task was
	// recorded before (no form then).
	Action string
	State  string
	// What was asked, as the instruction said it.
	Controller, Reference, System string
	TaskAction                    dsar.TaskAction
	Purposes, Categories          []string
	Details                       string // the correction (rectify)
	Email, CustomerID             string
	By                            string // YYYY-MM-DD
	// The form sent back with its problems: Outcome is "done" or
	// "no_data"; Errors by field (outcome, count, evidence); Error for
	// the page.
	Outcome, Count, Evidence string
	Errors                   map[string]string
	Error                    string
}
