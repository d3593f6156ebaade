package toolgate.decision_test

import data.toolgate
import data.toolgate.fixtures as f

shape_ok(d) if {
	d.outcome in {"allow", "deny", "approval_required"}
	is_array(d.reasons)
	every r in d.reasons {
		is_string(r.code)
		is_string(r.message)
	}
	is_array(d.obligations.limits)
	is_array(d.obligations.redact.request)
	is_array(d.obligations.redact.response)
	d.obligations.audit.level in {"standard", "full", "critical"}
	d.obligations.approval.ttl_s > 0
}

# The gateway must never see an undefined decision for a well-formed input, nor a deny without reasons.
test_decision_is_total if {
	inputs := [
		{},
		{"agent": null, "tool": null, "args": null, "context": null, "findings": null, "resources": null},
		{"agent": {"verified": true}},
		{"agent": {"verified": true, "id": "receipts-bot"}},
		{"agent": {"verified": true, "id": "receipts-bot"}, "tool": {"name": "email.send"}},
		{"agent": {"verified": true, "id": "rebalancer"}, "tool": {"name": "trade.place"}, "args": {"quantity": "lots"}},
		{"agent": {"verified": true, "id": "room-assistant"}, "tool": {"name": "memory.write"}, "args": {"scope": "room"}},
		{"agent": {"verified": true, "id": "room-assistant"}, "tool": {"name": "memory.read"}, "findings": {"secrets": "x", "pii": [1]}},
		object.union(f.email, {"resources": {"attachments": "upl_1"}, "approval": "yes", "break_glass": []}),
		object.union(f.trade, {"context": {"weekday": "Monday"}, "break_glass": {"valid": true, "scopes": "*"}}),
		object.remove(f.email, ["resources"]),
		f.email,
	]
	every inp in inputs {
		d := f.decide(inp)
		shape_ok(d)
		explained(d)
	}
}

explained(d) if d.outcome != "deny"

explained(d) if count(d.reasons) > 0

test_decision_defined_for_non_object_input if {
	d := toolgate.decision with input as "email.send"
	d.outcome == "deny"
	d.reasons[0].code == "agent_unverified"
}

test_each_scenario_has_the_full_shape if {
	every inp in [f.email, f.trade, f.room_write, f.user_read] {
		shape_ok(f.decide(inp))
		f.decide(inp).outcome == "allow"
	}
}

test_reasons_sorted_by_code if {
	inp := f.email_with({"to": ["eve@attacker.example"], "attachments": ["nope"], "amount": "x"})
	codes := [r.code | some r in f.decide(inp).reasons]
	codes == ["args_invalid", "attachment_unknown", "recipient_not_allowed"]
}

test_approval_reasons_listed_together if {
	inp := f.email_with({"subject": "Salary", "cc": ["backup@ledger-partners.example"], "amount": 5000})
	f.outcome(inp) == "approval_required"
	[r.code | some r in f.decide(inp).reasons] == ["amount_above_threshold", "recipients_unusual", "subject_sensitive"]
}

test_foundation_failure_hides_rule_reasons if {
	inp := object.union(f.email_with({"to": ["eve@attacker.example"]}), {"agent": {"verified": false}})
	f.codes(inp) == {"agent_unverified"}
}

# A foundation that is not positively established denies even when no foundation rule says why.
test_gap_in_foundation_still_denies if {
	d := f.decide(f.email) with data.toolgate.tools.allowed as false
		with data.toolgate.tools.deny as set()
	d.outcome == "deny"
	d.reasons[0].code == "denied_by_default"
}

test_redactions_in_finding_order if {
	inp := object.union(f.room_write, {"findings": {"pii": [
		{"type": "name", "pointer": "/args/summary"},
		{"type": "phone", "pointer": "/args/content"},
	]}})
	f.decide(inp).obligations.redact.request == ["/args/summary", "/args/content"]
}

test_missing_configuration_denies_everyone if {
	d := f.decide(f.email) with data.toolgate.config as "oops"
	d.outcome == "deny"
	[r.code | some r in d.reasons] == ["agent_unknown"]
}

test_missing_resources_mean_no_attachment_is_known if {
	f.codes(object.remove(f.email, ["resources"])) == {"attachment_unknown"}
}

# decision.rego consults only the called tool's file (tool_denies, tool_approvals, limits.tool_limits,
# redact_request). That is sound only while every other tool file says nothing about the call: checked here for
# every agent and tool of rego/data.json, unknown tools, and arguments shaped for each tool file's rules.
test_only_the_called_tools_file_speaks if {
	tools := ["email.send", "email.read_inbox", "trade.place", "trade.suggest", "memory.write", "memory.read", "memory.forget", "search.web", ""]
	agents := ["receipts-bot", "rebalancer", "advisor", "room-assistant", "nobody"]
	args := [
		{},
		{"to": ["x@evil.example", "a b@c"], "subject": "URGENT wire", "body": "password", "attachments": ["upl_nope", 7]},
		{"symbol": "ACME", "side": "buy", "quantity": 1000000, "limit_price": 1000000, "reason": ""},
		{"symbol": "", "side": "hold", "quantity": -1},
		{"scope": "room", "room": "r1", "into_room": "r2", "owner": "bob", "on_behalf_of": "alice", "label": "secret", "retention_days": 100000},
		{"scope": "user", "owner": "bob", "on_behalf_of": "alice", "into_room": "r1", "content": "AKIAIOSFODNN7EXAMPLE"},
	]
	findings := {"secrets": [{"type": "aws_access_key", "pointer": "/args/content"}], "pii": [{"type": "email", "pointer": "/args/content"}]}
	every tool in tools {
		every agent_id in agents {
			every a in args {
				other_files_silent(object.union(f.call(agent_id, tool, a), {"findings": findings}))
			}
		}
	}
}

other_files_silent(call) if {
	email_silent(call)
	trade_silent(call)
	memory_silent(call)
}

email_silent(call) if toolgate.tools.email.sending with input as call

email_silent(call) if {
	not toolgate.tools.email.sending with input as call
	count(toolgate.tools.email.deny) == 0 with input as call
	count(toolgate.tools.email.approval) == 0 with input as call
}

trade_silent(call) if toolgate.tools.trade.placing with input as call

trade_silent(call) if {
	not toolgate.tools.trade.placing with input as call
	count(toolgate.tools.trade.deny) == 0 with input as call
	count(toolgate.tools.trade.approval) == 0 with input as call
	count(toolgate.tools.trade.limits) == 0 with input as call
}

memory_silent(call) if toolgate.tools.memory.memory_call with input as call

memory_silent(call) if {
	not toolgate.tools.memory.memory_call with input as call
	count(toolgate.tools.memory.deny) == 0 with input as call
	count(toolgate.tools.memory.redact_request) == 0 with input as call
}
