package toolgate.tools.memory_test

import data.toolgate.fixtures as f

redactions(inp) := f.decide(inp).obligations.redact.request

with_pii(inp, pointer) := object.union(inp, {"findings": {"pii": [{"type": "phone_number", "pointer": pointer}]}})

with_secret(inp) := object.union(inp, {"findings": {"secrets": [{"type": "api_key", "pointer": "/args/content"}]}})

# --- shape ---

test_valid_writes_and_reads_allowed if {
	f.outcome(f.room_write) == "allow"
	f.outcome(f.user_write) == "allow"
	f.outcome(f.user_read) == "allow"
	f.outcome(f.room_read) == "allow"
}

test_scope_required if {
	f.codes(f.with_args(f.room_write, {"scope": "global"})) == {"args_invalid"}
	f.codes(f.without_arg(f.user_read, "scope")) == {"args_invalid"}
}

test_acting_user_required if {
	f.codes(f.without_arg(f.user_read, "on_behalf_of")) == {"args_invalid"}
}

test_owner_or_room_required if {
	f.codes(f.without_arg(f.user_write, "owner")) == {"args_invalid"}
	f.codes(f.without_arg(f.room_read, "room")) == {"args_invalid"}
}

test_label_required if {
	f.codes(f.without_arg(f.user_write, "label")) == {"label_required"}
	f.codes(f.with_args(f.user_write, {"label": "confidential"})) == {"label_required"}
}

# --- no cross-user recall ---

test_reading_another_users_memory_denied if {
	inp := f.with_args(f.user_read, {"owner": "bob"})
	f.codes(inp) == {"cross_user_memory"}
}

test_writing_another_users_memory_denied if {
	f.codes(f.with_args(f.user_write, {"owner": "bob"})) == {"cross_user_memory"}
}

test_user_memory_never_recalled_into_a_room if {
	f.codes(f.with_args(f.user_read, {"into_room": "room-42"})) == {"user_memory_into_room"}
}

test_into_room_must_be_a_room_id if {
	f.codes(f.with_args(f.user_read, {"into_room": 42})) == {"args_invalid"}
	f.codes(f.with_args(f.user_read, {"into_room": ""})) == {"args_invalid"}
	f.outcome(f.with_args(f.user_read, {"into_room": null})) == "allow"
}

test_room_memory_stays_in_its_room if {
	f.outcome(f.with_args(f.room_read, {"into_room": "room-42"})) == "allow"
	f.codes(f.with_args(f.room_read, {"into_room": "room-7"})) == {"cross_room_memory"}
}

test_room_membership_when_required if {
	member := object.union(f.room_read, {"resources": {"room": {"id": "room-42", "members": ["alice", "bob"]}}})
	outsider := object.union(f.room_read, {"resources": {"room": {"id": "room-42", "members": ["bob"]}}})
	ok := f.outcome(member) with data.toolgate.config.memory.require_room_membership as true
	ok == "allow"
	codes := f.codes(outsider) with data.toolgate.config.memory.require_room_membership as true
	codes == {"not_room_member"}
	unknown := f.codes(f.room_read) with data.toolgate.config.memory.require_room_membership as true
	unknown == {"not_room_member"}
	f.outcome(outsider) == "allow"
}

# --- secrets never enter a room ---

test_secret_label_never_in_a_room if {
	f.codes(f.with_args(f.room_write, {"label": "secret"})) == {"label_not_allowed_in_room"}
	f.outcome(f.with_args(f.user_write, {"label": "secret"})) == "allow"
}

test_secret_label_stays_out_even_if_data_allows if {
	codes := f.codes(f.with_args(f.room_write, {"label": "secret"})) with data.toolgate.config.memory.labels.secret.room_allowed as true
	codes == {"label_not_allowed_in_room"}
}

test_room_permission_per_label_from_data if {
	codes := f.codes(f.room_write) with data.toolgate.config.memory.labels.internal.room_allowed as false
	codes == {"label_not_allowed_in_room"}
}

test_detected_secret_never_in_a_room if {
	f.codes(with_secret(f.room_write)) == {"secret_to_room"}
}

test_detected_secret_must_be_labelled_secret if {
	f.codes(with_secret(f.user_write)) == {"secret_mislabeled"}
	f.outcome(with_secret(f.with_args(f.user_write, {"label": "secret"}))) == "allow"
}

# --- PII is redacted before it enters a room ---

test_pii_into_room_is_redacted if {
	inp := with_pii(f.room_write, "/args/content")
	f.outcome(inp) == "allow"
	redactions(inp) == ["/args/content"]
}

test_pii_is_redacted_where_it_was_found if {
	redactions(with_pii(f.room_write, "/args/content/notes")) == ["/args/content/notes"]
}

# Not a fixed list of fields: PII anywhere in the arguments would otherwise enter the room and come back on
# memory.read to everyone there.
test_pii_outside_content_is_redacted_too if {
	redactions(with_pii(f.room_write, "/args/notes/content")) == ["/args/notes/content"]
	redactions(with_pii(f.room_write, "/args/tags/0")) == ["/args/tags/0"]
}

test_every_finding_is_redacted if {
	inp := object.union(f.room_write, {"findings": {"pii": [
		{"type": "email", "pointer": "/args/content"},
		{"type": "phone", "pointer": "/args/notes/content"},
		{"type": "email", "pointer": "/args/notes/content"},
	]}})
	f.outcome(inp) == "allow"
	redactions(inp) == ["/args/content", "/args/notes/content", "/args/notes/content"]
}

# PII in a member name is reported at the object holding the member ("in": "name"): redacting that object
# masks the name, so the pointer is redacted like any other.
test_pii_in_a_member_name_is_redacted_at_its_object if {
	inp := object.union(f.room_write, {"findings": {"pii": [{"type": "email", "pointer": "/args/notes", "in": "name"}]}})
	f.outcome(inp) == "allow"
	redactions(inp) == ["/args/notes"]
}

test_pii_in_user_memory_is_kept if {
	redactions(with_pii(f.user_write, "/args/content")) == []
}

test_pii_read_is_not_redacted_by_the_write_rule if {
	redactions(with_pii(f.room_read, "/args/room")) == []
}

# --- retention ---

test_retention_required if {
	inp := f.without_arg(f.user_write, "retention_days")
	f.codes(inp) == {"retention_required"}
	some r in f.decide(inp).reasons
	contains(r.message, "at most 90 for internal data")
	f.codes(f.with_args(f.user_write, {"retention_days": -1})) == {"retention_required"}
}

test_retention_hint_needs_a_label if {
	inp := f.without_arg(f.without_arg(f.user_write, "retention_days"), "label")
	some r in f.decide(inp).reasons
	r.message == "memory.write needs args.retention_days, a positive number of days."
}

test_retention_capped_per_label if {
	f.outcome(f.with_args(f.user_write, {"retention_days": 90})) == "allow"
	f.codes(f.with_args(f.user_write, {"retention_days": 91})) == {"retention_too_long"}
	f.codes(f.with_args(f.user_write, {"label": "secret", "retention_days": 31})) == {"retention_too_long"}
	f.outcome(f.with_args(f.user_write, {"label": "public", "retention_days": 365})) == "allow"
}
