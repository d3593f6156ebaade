package toolgate.break_glass_test

import data.toolgate.fixtures as f

after_hours := object.union(f.trade, {"context": {"hour": 18, "minute": 5}})

with_token(inp, token) := object.union(inp, {"break_glass": token})

test_overrides_time_window if {
	inp := with_token(after_hours, f.break_glass)
	f.outcome(inp) == "allow"
	f.codes(inp) == {"break_glass_used"}
	f.decide(inp).obligations.audit.level == "critical"
	some r in f.decide(inp).reasons
	contains(r.message, "carol@example.com")
}

test_waives_approval if {
	inp := with_token(f.trade_with({"quantity": 40}), f.break_glass)
	f.outcome(inp) == "allow"
	f.codes(inp) == {"break_glass_used"}
}

# A person's denial, or an approval for another call, is never set aside, even though break-glass waives the need
# for an approval (it used to waive the approval's problems with it).
test_never_overrides_a_human_denial if {
	every status in ["denied", "mismatch"] {
		inp := with_token(object.union(f.trade_with({"quantity": 40}), {"approval": {"id": "apr_9", "status": status}}), f.break_glass)
		f.outcome(inp) == "deny"
		f.codes(inp)[sprintf("approval_%s", [status])]
	}

	# A stale approval (expired, used) presented beside the token does not block the waiver.
	f.outcome(with_token(object.union(f.trade_with({"quantity": 40}), {"approval": {"id": "apr_9", "status": "expired"}}), f.break_glass)) == "allow"
}

test_tool_scope if {
	f.outcome(with_token(after_hours, object.union(f.break_glass, {"scopes": ["trade.place"]}))) == "allow"
	f.codes(with_token(after_hours, object.union(f.break_glass, {"scopes": ["email.send"]}))) == {"break_glass_out_of_scope", "outside_time_window"}
}

test_never_overrides_secret_leaks if {
	inp := with_token(object.union(f.email, {"findings": {"secrets": [{"type": "seed_phrase", "pointer": "/args/body"}]}}), f.break_glass)
	f.outcome(inp) == "deny"
	f.codes(inp) == {"secret_in_args", "break_glass_used"}
}

test_never_overridable_wins_over_data if {
	inp := with_token(f.email_with({"to": ["eve@attacker.example"]}), f.break_glass)
	codes := f.codes(inp) with data.toolgate.config.break_glass.overridable as ["approval_required", "recipient_not_allowed"]
	codes == {"break_glass_used"}
	leak := with_token(object.union(f.email, {"findings": {"secrets": [{"type": "api_key", "pointer": "/args/body"}]}}), f.break_glass)
	leak_codes := f.codes(leak) with data.toolgate.config.break_glass.overridable as ["secret_in_args"]
	leak_codes == {"secret_in_args", "break_glass_used"}
}

test_cannot_unlock_foundation if {
	inp := with_token(f.call("receipts-bot", "trade.place", f.order), f.break_glass)
	f.codes(inp) == {"tool_not_allowed"}
	f.decide(inp).obligations.audit.level == "critical"
}

test_invalid_token_denied if {
	inp := with_token(f.email, {"valid": false, "error": "signature_invalid"})
	f.codes(inp) == {"break_glass_invalid"}
	f.decide(inp).obligations.audit.level == "critical"
}

test_token_needs_who_and_why if {
	f.codes(with_token(f.email, object.remove(f.break_glass, ["why"]))) == {"break_glass_invalid"}
	f.codes(with_token(f.email, object.union(f.break_glass, {"who": " "}))) == {"break_glass_invalid"}
}

test_expired_token_denied if {
	expired := object.union(f.break_glass, {"until_ms": f.now_ms - 1})
	f.codes(with_token(after_hours, expired)) == {"break_glass_invalid", "outside_time_window"}
	current := object.union(f.break_glass, {"until_ms": f.now_ms + 60000})
	f.outcome(with_token(after_hours, current)) == "allow"
}

test_tool_not_unlockable if {
	inp := with_token(f.room_write, f.break_glass)
	f.codes(inp) == {"break_glass_not_permitted"}
}

test_without_token_nothing_changes if {
	f.codes(after_hours) == {"outside_time_window"}
	f.decide(after_hours).obligations.audit.level == "full"
}
