package toolgate.annotations_test

import data.toolgate.fixtures as f

forget := object.union(f.call("room-assistant", "memory.forget", {"id": "mem_1", "on_behalf_of": "alice"}), {"tool": {
	"protocol": "mcp",
	"definition_known": true,
	"definition_sha256": "ab",
	"annotations": {"readOnlyHint": false, "destructiveHint": true, "idempotentHint": true, "openWorldHint": false},
}})

with_hints(inp, hints) := object.union(inp, {"tool": {"annotations": hints}})

test_destructive_mcp_tool_needs_approval if {
	f.outcome(forget) == "approval_required"
	f.codes(forget) == {"tool_destructive"}
}

test_approved_destructive_call_runs if {
	f.outcome(object.union(forget, {"approval": f.approved})) == "allow"
}

test_read_only_hint_clears if {
	f.outcome(with_hints(forget, {"readOnlyHint": true})) == "allow"
}

test_non_destructive_hint_clears if {
	f.outcome(with_hints(forget, {"destructiveHint": false})) == "allow"
}

# A string is not a hint: only a JSON false clears.
test_string_false_is_not_a_hint if {
	f.outcome(with_hints(forget, {"destructiveHint": "false"})) == "approval_required"
}

test_missing_annotations_count_as_destructive if {
	inp := object.union(forget, {"tool": {"annotations": null}})
	f.outcome(inp) == "approval_required"
}

test_unknown_definition_says_why if {
	inp := object.union(forget, {"tool": {"definition_known": false, "definition_sha256": null}})
	some r in f.decide(inp).reasons
	r.code == "tool_destructive"
	contains(r.message, "has not seen it in a tools/list")
}

test_reviewed_tool_is_left_to_its_rules if {
	inp := object.union(f.room_write, {"tool": {"protocol": "mcp", "annotations": {"destructiveHint": true}}})
	f.outcome(inp) == "allow"
}

# The HTTP route is no way around the annotation: without hints an unreviewed tool needs a person.
test_http_call_of_an_unreviewed_tool_needs_approval if {
	inp := f.call("room-assistant", "memory.forget", {"id": "mem_1"})
	f.codes(inp) == {"tool_destructive"}
	some r in f.decide(inp).reasons
	contains(r.message, "plain HTTP call")
}

test_http_call_of_a_reviewed_tool_is_unchanged if {
	f.outcome(f.room_write) == "allow"
}

test_malformed_args_are_still_denied if {
	f.codes(object.union(forget, {"args": "x"})) == {"args_invalid"}
}
