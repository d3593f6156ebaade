# The decision the gateway enforces: data.toolgate.decision (entrypoint toolgate/decision).
#
#   {"outcome": "allow" | "deny" | "approval_required",
#    "reasons": [{"code", "message"}],
#    "obligations": {"limits": [...], "redact": {"request": [...], "response": [...]},
#                    "audit": {"level"}, "approval": {"ttl_s"}}}
#
# How the pieces combine, in order:
#   1. Foundation (identity.rego, tools.rego): a verified, known agent calling one of its own tools. If that
#      fails, the call is denied with only those reasons: nothing else about the policy is revealed.
#   2. Rules: every concern file adds reasons to `deny` or to `approval`. Break-glass may set aside the deny
#      codes and approvals that data allows it to (break_glass.rego).
#   3. Deny beats approval_required beats allow. An approval is satisfied only by a presented approval with
#      status "approved"; any other presented status is a deny.
# The decision is always defined: every part below has a value for any input.
package toolgate

import data.toolgate.annotations
import data.toolgate.approvals
import data.toolgate.audit
import data.toolgate.break_glass
import data.toolgate.classification
import data.toolgate.environment
import data.toolgate.identity
import data.toolgate.lib
import data.toolgate.limits
import data.toolgate.time as time_windows
import data.toolgate.tools
import data.toolgate.tools.email
import data.toolgate.tools.memory
import data.toolgate.tools.trade

decision := {
	"outcome": outcome,
	"reasons": reasons,
	"obligations": {
		"limits": limit_obligations,
		"redact": {"request": redact_request, "response": []},
		"audit": {"level": audit.level},
		"approval": {"ttl_s": approvals.ttl_s},
	},
}

# --- What each concern says (add a new concern file here) ---------------------------------------------

foundation_denies := identity.deny | tools.deny

rule_denies := union({
	classification.deny,
	environment.deny,
	time_windows.deny,
	break_glass.deny,
	tool_denies,
})

approval_requests := union({
	annotations.approval,
	approvals.approval,
	tool_approvals,
})

redact_request := memory.redact_request if memory.memory_call

else := []

# --- The called tool's own file ------------------------------------------------------------------------
# A tool file's rules speak only for calls of its own tools (every rule there holds email.sending, trade.placing
# or memory.memory_call), so only the called tool's file is consulted: the others would each be evaluated to an
# empty set on every call (12 % of an allowed email.send's evaluation, measured). A rule meant for every tool
# belongs in a concern file, not in a tool file.

tool_denies := email.deny if email.sending

else := trade.deny if trade.placing

else := memory.deny if memory.memory_call

else := set()

tool_approvals := email.approval if email.sending

else := trade.approval if trade.placing

else := set()

# --- Combining them ------------------------------------------------------------------------------------

# Positively established, not merely "no denial found": a gap in the foundation files can never allow.
foundation_ok if {
	identity.known
	tools.allowed
	count(foundation_denies) == 0
}

# Rule denials that break-glass does not set aside.
standing_denies := {r | some r in rule_denies; not break_glass.overrides(r.code)}

# The rules ask for a person, whether or not break-glass then waives it.
approval_asked if {
	foundation_ok
	count(approval_requests) > 0
}

approval_needed if {
	approval_asked
	not break_glass.waives_approval
}

# A presented approval that is not "approved" is a denial of its own, when an approval is needed.
approval_denies := {approvals.problem |
	approval_needed
	approvals.presented
	not approvals.satisfied
}

# A person's no (approval_denied) or an approval for another call (approval_mismatch) stands even when break-glass
# waives the approval: both are break_glass.never_overridable, and waiving the need must not set them aside.
human_denies := {approvals.problem |
	approval_asked
	approvals.presented
	not approvals.satisfied
	approvals.problem.code in break_glass.never_overridable
}

denies := foundation_denies if {
	not foundation_ok
} else := (standing_denies | approval_denies) | human_denies

default outcome := "deny"

outcome := "allow" if {
	foundation_ok
	count(denies) == 0
	not approval_pending
}

outcome := "approval_required" if {
	foundation_ok
	count(denies) == 0
	approval_pending
}

approval_pending if {
	approval_needed
	not approvals.satisfied
}

# --- Reasons, in a stable order (by code, then message) ------------------------------------------------

reasons := array.concat(ordered(denies), used_break_glass) if {
	outcome == "deny"
	count(denies) > 0
} else := array.concat(ordered(approval_requests), used_break_glass) if {
	outcome == "approval_required"
} else := used_break_glass if {
	outcome == "allow"
} else := [lib.reason(
	"denied_by_default",
	"No rule allowed this call; check the agent, the tool name and the arguments against rego/README.md.",
)]

used_break_glass := [break_glass.used] if {
	foundation_ok
	break_glass.applies
} else := []

ordered(items) := [r |
	some key in sort({sort_key(r) | some r in items})
	some r in items
	sort_key(r) == key
]

sort_key(r) := concat("\u0000", [r.code, r.message])

# --- Obligations ---------------------------------------------------------------------------------------

# Counters are spent only by calls that run; a denied call spends nothing.
limit_obligations := limits.obligations if outcome != "deny"

else := []
