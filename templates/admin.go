package templates

import (
	"time"

	"github.com/dsar-project/dsar"
)

// roleKeys names the roles on the pages.
var roleKeys = map[dsar.Role]string{
	dsar.RoleAdmin:   "page.admin.role.admin",
	dsar.RoleOfficer: "page.admin.role.officer",
	dsar.RoleAuditor: "page.admin.role.auditor",
	dsar.RoleSystem:  "page.admin.role.system",
}

// RoleName is the name of a role in lang; an unknown role shows as it is.
func RoleName(lang dsar.Language, r dsar.Role) string {
	if k, ok := roleKeys[r]; ok {
		return T(lang, k, nil)
	}
	return string(r)
}

// scopeKeys describe the scopes of API keys on the pages.
var scopeKeys = map[dsar.Scope]string{
	dsar.ScopeRequestsCreate:   "page.admin.keys.scope.requests_create",
	dsar.ScopeRequestsVerified: "page.admin.keys.scope.requests_verified",
	dsar.ScopeRequestsRead:     "page.admin.keys.scope.requests_read",
	dsar.ScopeCasesWrite:       "page.admin.keys.scope.cases_write",
	dsar.ScopeExportsWrite:     "page.admin.keys.scope.exports_write",
	dsar.ScopeSuppressionCheck: "page.admin.keys.scope.suppression_check",
	dsar.ScopeWebhooksManage:   "page.admin.keys.scope.webhooks_manage",
}

// ScopeDescription says in lang what a scope allows; an unknown scope
// shows as it is.
func ScopeDescription(lang dsar.Language, s dsar.Scope) string {
	if k, ok := scopeKeys[s]; ok {
		return T(lang, k, nil)
	}
	return string(s)
}

// WebhookEventDescription says in lang when an event of the type is sent;
// an unknown type shows as it is.
func WebhookEventDescription(lang dsar.Language, t dsar.WebhookEventType) string {
	if msg, ok := lookup(lang, "page.admin.webhooks.event."+string(t)); ok {
		return msg
	}
	return string(t)
}

// AdminChoice is one option of a choice on the administration pages: a
// role or a controller, and whether it is chosen.
type AdminChoice struct {
	Value, Label string
	Checked      bool
}

// AdminUser is an officer's account as the administration pages show it.
type AdminUser struct {
	ID, Email   string
	Role        dsar.Role
	Controllers []string
	CreatedAt   time.Time
	// DisabledAt is when the account was disabled (nil while enabled);
	// Locked says too many wrong passwords locked it for now.
	DisabledAt *time.Time
	Locked     bool
}

// AdminUsersPage lists the officers' accounts, with the form to add one.
type AdminUsersPage struct {
	Page
	Users []AdminUser
	// Roles and Controllers are the choices of the form, with what was
	// chosen when it comes back; Email what was typed.
	Roles, Controllers []AdminChoice
	Email              string
	// Errors are the form's problems, in the page's language; Notice says
	// what was done.
	Errors []string
	Notice string
	// Password is the generated password of the account just created,
	// shown only now.
	Password string
}

// AdminUserPage is one account: its role and controllers to edit, disable
// or enable it, reset its password.
type AdminUserPage struct {
	Page
	User               AdminUser
	Roles, Controllers []AdminChoice
	// Self is set on the admin's own account, which they cannot disable.
	Self   bool
	Errors []string
	Notice string
	// Password is a generated new password, shown only now.
	Password string
}

// AdminKey is an API key as the administration page shows it.
type AdminKey struct {
	ID, Name    string
	Role        dsar.Role
	Controllers []string
	// Scopes limits the key; nil for a key its role alone limits.
	Scopes     []dsar.Scope
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// AdminKeysPage lists the API keys, with the form to create one.
type AdminKeysPage struct {
	Page
	Keys                       []AdminKey
	Roles, Controllers, Scopes []AdminChoice
	Name                       string
	Errors                     []string
	Notice                     string
	// Secret is the secret of the key just created, shown only now.
	Secret string
}

// AdminWebhook is a webhook subscription as the administration pages show
// it, never with its secret.
type AdminWebhook struct {
	ID, URL, Description string
	Events               []dsar.WebhookEventType
	// Controllers are the controllers whose cases it covers; none: all.
	Controllers  []string
	IncludeEmail bool
	// Enabled is false once disabled, for DisabledReason (an admin, 410
	// Gone, persistent failure) since DisabledAt.
	Enabled        bool
	DisabledReason string
	DisabledAt     *time.Time
	// FailingSince is the first failed attempt since the last success.
	FailingSince *time.Time
	// PreviousUntil is when the secret a rotation replaced stops signing.
	PreviousUntil *time.Time
	CreatedAt     time.Time
	// Last is the newest attempt of its delivery log; nil before the
	// first.
	Last *dsar.WebhookAttempt
}

// AdminWebhookForm is the form of a subscription: its fields as typed or
// as they are, and the choices of event types and controllers.
type AdminWebhookForm struct {
	URL, Description    string
	Events, Controllers []AdminChoice
	IncludeEmail        bool
}

// AdminWebhooksPage lists the webhook subscriptions, with the form to add
// one.
type AdminWebhooksPage struct {
	Page
	Webhooks []AdminWebhook
	Form     AdminWebhookForm
	Errors   []string
	Notice   string
}

// AdminWebhookRedeliver is what was typed in the redelivery form: one
// event's ID, or a time range in UTC (datetime-local values).
type AdminWebhookRedeliver struct {
	EventID, From, To string
}

// AdminWebhookPage is one subscription: its delivery log (times in UTC),
// and the forms to change it, send a test, rotate its secret, enable or
// disable it, redeliver and delete it.
type AdminWebhookPage struct {
	Page
	Webhook   AdminWebhook
	Attempts  []*dsar.WebhookAttempt
	Form      AdminWebhookForm
	Redeliver AdminWebhookRedeliver
	Errors    []string
	Notice    string
	// Secret is the signing secret just made (by the creation or a
	// rotation), shown only now.
	Secret string
}
