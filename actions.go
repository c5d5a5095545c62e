package dsar

import (
	"slices"
	"time"
)

// Action is something an officer can do to a case. Actions answers which
// of them an actor may take on a case now; every operation checks the same
// rule before anything else, so the pages and the API offer and accept
// exactly the same things.
type Action string

// The officers' actions, in the order the case page groups them: the
// identity and the dialogue with the subject, the clock, the work, and the
// decisions that close the case.
const (
	ActionVerify    Action = "verify"    // record that the subject's identity was checked
	ActionAsk       Action = "ask"       // ask the subject a question (clarification or identity proof)
	ActionPause     Action = "pause"     // wait for the subject without a message
	ActionResume    Action = "resume"    // end the wait
	ActionExtend    Action = "extend"    // extend the deadline once, with reasons
	ActionAssign    Action = "assign"    // give the case to an officer
	ActionNote      Action = "note"      // write an internal note
	ActionObjection Action = "objection" // say which kind of objection it is (Art 21(1) or (2))
	ActionApprove   Action = "approve"   // approve for execution in the connected systems
	ActionFee       Action = "fee"       // announce a fee before charging it
	ActionComplete  Action = "complete"  // close the case as carried out
	ActionRefuse    Action = "refuse"    // refuse wholly, or in part and go on with the rest
	ActionForward   Action = "forward"   // send to the controller responsible (processors only)
	ActionReopen    Action = "reopen"    // take a closed case back into work
	ActionTaskDone  Action = "task_done" // record that a person did a task (manual, vendor)
	ActionSkipTask  Action = "skip_task" // leave a task out, with a reason
	ActionRetry     Action = "retry"     // start the failed tasks again
	ActionRedact    Action = "redact"    // leave a record out of the subject's files, with the reason (Art 15(4))
)

// AllActions lists every action in the order of the case page.
var AllActions = []Action{
	ActionVerify, ActionAsk, ActionPause, ActionResume, ActionExtend, ActionAssign, ActionNote,
	ActionObjection, ActionApprove, ActionTaskDone, ActionSkipTask, ActionRetry, ActionRedact, ActionFee, ActionComplete,
	ActionRefuse, ActionForward, ActionReopen,
}

// errClosed is the conflict of an action on a closed case.
func errClosed() error { return &Error{Code: ECONFLICT, Message: "error.closed"} }

func open(c *Case, _ time.Time) error {
	if !c.Request.Status.Open() {
		return errClosed()
	}
	return nil
}

// rules holds each action's condition on the case (the actor's right to
// change the case is checked before).
var rules = map[Action]func(c *Case, now time.Time) error{
	ActionVerify: open,
	ActionAsk: func(c *Case, _ time.Time) error {
		if err := open(c, time.Time{}); err != nil {
			return err
		}
		if c.Request.VerifiedAt == nil {
			// The subject can answer only on the status page, which opens
			// when they confirm the request.
			return &Error{Code: ECONFLICT, Message: "error.ask.unverified"}
		}
		return nil
	},
	ActionPause: func(c *Case, _ time.Time) error {
		switch {
		case c.Request.PausedAt != nil:
			return &Error{Code: ECONFLICT, Message: "error.pause.already_paused"}
		case !c.Request.Status.Open():
			return &Error{Code: ECONFLICT, Message: "error.pause.closed"}
		}
		return nil
	},
	ActionResume: func(c *Case, _ time.Time) error {
		if c.Request.PausedAt == nil || c.Pause == nil {
			return &Error{Code: ECONFLICT, Message: "error.pause.not_paused"}
		}
		return nil
	},
	ActionExtend: func(c *Case, now time.Time) error {
		r := c.Request
		switch {
		case !r.Status.Open():
			return errClosed()
		case r.Extended:
			return &Error{Code: ECONFLICT, Message: "error.extend.already_extended"}
		case now.After(r.Deadline):
			return &Error{Code: ECONFLICT, Message: "error.extend.past_deadline", Params: map[string]any{"deadline": r.DueDate.String()}}
		}
		return nil
	},
	ActionAssign: func(*Case, time.Time) error { return nil },
	ActionNote:   func(*Case, time.Time) error { return nil },
	ActionObjection: func(c *Case, _ time.Time) error {
		if c.Request.Type != TypeObjection {
			return &Error{Code: ECONFLICT, Message: "error.objection.not_objection"}
		}
		return open(c, time.Time{})
	},
	ActionApprove: func(c *Case, _ time.Time) error {
		switch {
		case c.Request.ApprovedAt != nil:
			return &Error{Code: ECONFLICT, Message: "error.already_approved"}
		case c.Request.Status != StatusInProgress:
			return &Error{Code: ECONFLICT, Message: "error.approve_status", Params: map[string]any{"status": c.Request.Status}}
		}
		return c.Request.planReady()
	},
	ActionTaskDone: taskOffers(ActionTaskDone),
	ActionSkipTask: taskOffers(ActionSkipTask),
	ActionRetry:    taskOffers(ActionRetry),
	ActionFee: func(c *Case, _ time.Time) error {
		if c.Request.Type != TypeAccess {
			return &Error{Code: ECONFLICT, Message: "error.fee.only_access"}
		}
		return open(c, time.Time{})
	},
	ActionComplete: func(c *Case, now time.Time) error {
		if c.OpenTasks() {
			return &Error{Code: ECONFLICT, Message: "error.complete.tasks_open"}
		}
		if err := inProgress(StatusCompleted)(c, now); err != nil {
			return err
		}
		if GivesResults(c.Request.Type) && c.Request.ResultsAt == nil {
			// The answer to an access or portability request is the
			// subject's data: it is completed by giving it.
			return &Error{Code: ECONFLICT, Message: "error.complete.results"}
		}
		return nil
	},
	ActionRedact: func(c *Case, _ time.Time) error {
		if err := resultsReady(c); err != nil {
			return err
		}
		if !slices.ContainsFunc(c.Tasks, (*Task).Redactable) {
			return &Error{Code: ECONFLICT, Message: "error.redact.no_data"}
		}
		return nil
	},
	ActionRefuse: open,
	ActionForward: func(c *Case, _ time.Time) error {
		if c.Controller.ProcessorFor == "" {
			return &Error{Code: ECONFLICT, Message: "error.forward.not_processor", Params: map[string]any{"controller": c.Controller.LegalName}}
		}
		return open(c, time.Time{})
	},
	ActionReopen: func(c *Case, _ time.Time) error {
		if st := c.Request.Status; st != StatusCompleted && st != StatusRefused {
			return &Error{Code: ECONFLICT, Message: "error.reopen.open", Params: map[string]any{"status": st}}
		}
		if c.Request.PersonalDataRemovedAt != nil {
			// Nobody to answer any more: the records retention ran out.
			return &Error{Code: ECONFLICT, Message: "error.reopen.removed"}
		}
		return nil
	},
}

// taskOffers is the rule of an action on a task: the case is open and has
// a task the action applies to (TaskStatus.Offers).
func taskOffers(a Action) func(c *Case, _ time.Time) error {
	return func(c *Case, _ time.Time) error {
		if err := open(c, time.Time{}); err != nil {
			return err
		}
		for _, t := range c.Tasks {
			if t.Status.Offers(a) {
				return nil
			}
		}
		return &Error{Code: ECONFLICT, Message: "error.task.none"}
	}
}

// inProgress is the rule of an action that needs the case in progress.
func inProgress(to Status) func(c *Case, _ time.Time) error {
	return func(c *Case, _ time.Time) error {
		if err := open(c, time.Time{}); err != nil {
			return err
		}
		if c.Request.Status != StatusInProgress {
			return &Error{Code: ECONFLICT, Message: "error.transition", Params: map[string]any{"from": c.Request.Status, "to": to}}
		}
		return nil
	}
}

// Allowed reports whether the actor may take the action on the case now,
// and if not, why: EFORBIDDEN for an actor who may not change the case,
// a conflict naming the reason otherwise.
func Allowed(action Action, c *Case, a Actor, now time.Time) error {
	if !a.CanChange(c.Request.Controller) {
		return &Error{Code: EFORBIDDEN, Message: "error.forbidden"}
	}
	return rules[action](c, now)
}

// Actions returns the actions the actor may take on the case now, in the
// order of AllActions.
func Actions(c *Case, a Actor, now time.Time) []Action {
	var out []Action
	for _, act := range AllActions {
		if Allowed(act, c, a, now) == nil {
			out = append(out, act)
		}
	}
	return out
}
