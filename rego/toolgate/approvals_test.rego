package toolgate.approvals_test

import data.toolgate.fixtures as f

# An e-mail that needs approval: the subject mentions tax.
needs_approval := f.email_with({"subject": "Tax documents"})

presenting(status) := object.union(needs_approval, {"approval": {"id": "apr_9", "status": status, "approved_by": "bob"}})

test_without_approval_is_approval_required if {
	f.outcome(needs_approval) == "approval_required"
	f.codes(needs_approval) == {"subject_sensitive"}
}

test_approved_approval_allows if {
	f.outcome(presenting("approved")) == "allow"
	f.decide(presenting("approved")).reasons == []
}

test_denied_approval_denies if {
	f.codes(presenting("denied")) == {"approval_denied"}
}

test_expired_approval_denies if {
	f.codes(presenting("expired")) == {"approval_expired"}
}

test_used_approval_denies if {
	f.codes(presenting("used")) == {"approval_used"}
}

test_mismatched_approval_denies if {
	f.codes(presenting("mismatch")) == {"approval_mismatch"}
}

test_approval_for_an_earlier_tool_definition_denies if {
	f.codes(presenting("definition_changed")) == {"approval_definition_changed"}
}

test_pending_approval_denies if {
	f.codes(presenting("pending")) == {"approval_pending"}
}

test_unknown_approval_denies if {
	f.codes(presenting("unknown")) == {"approval_invalid"}
	f.codes(object.union(needs_approval, {"approval": {"status": 42}})) == {"approval_invalid"}
}

test_approval_message_names_the_id if {
	some r in f.decide(presenting("expired")).reasons
	contains(r.message, "apr_9")
	some s in f.decide(object.union(needs_approval, {"approval": {}})).reasons
	contains(s.message, "(no id)")
}

test_approval_for_a_call_that_needs_none_changes_nothing if {
	f.outcome(object.union(f.email, {"approval": {"id": "apr_9", "status": "denied"}})) == "allow"
}

test_deny_beats_approval_required if {
	inp := f.email_with({"subject": "Tax documents", "to": ["eve@attacker.example"]})
	f.outcome(inp) == "deny"
	f.codes(inp) == {"recipient_not_allowed"}
}

test_approval_does_not_lift_a_deny if {
	inp := object.union(f.email_with({"subject": "Tax", "to": ["eve@attacker.example"]}), {"approval": f.approved})
	f.codes(inp) == {"recipient_not_allowed"}
}

test_tool_that_always_needs_approval if {
	inp := f.call("receipts-bot", "email.read_inbox", {"folder": "INBOX"})
	f.outcome(inp) == "approval_required"
	f.codes(inp) == {"tool_requires_approval"}
	f.outcome(object.union(inp, {"approval": f.approved})) == "allow"
}

test_ttl_from_tool_config if {
	f.decide(f.trade_with({"quantity": 40})).obligations.approval.ttl_s == 300
}

test_ttl_default_from_data if {
	f.decide(needs_approval).obligations.approval.ttl_s == 900
	ttl := f.decide(needs_approval).obligations.approval.ttl_s with data.toolgate.config.approvals.ttl_s as 60
	ttl == 60
}

test_ttl_fallback_without_data if {
	ttl := f.decide(needs_approval).obligations.approval.ttl_s with data.toolgate.config.approvals.ttl_s as "soon"
	ttl == 900
}
