package toolgate.classification_test

import data.toolgate.classification
import data.toolgate.fixtures as f

with_secret(inp, finding) := object.union(inp, {"findings": {"secrets": [finding]}})

test_secret_in_email_body_denied if {
	inp := with_secret(f.email, {"type": "aws_access_key", "pointer": "/args/body"})
	f.codes(inp) == {"secret_in_args"}
	some r in f.decide(inp).reasons
	contains(r.message, "aws_access_key at /args/body")
}

# A credential used as a member name is reported at the object holding it, and denied like one in a value.
test_secret_in_a_member_name_denied if {
	inp := with_secret(f.email, {"type": "aws_access_key", "pointer": "/args/meta", "in": "name"})
	f.codes(inp) == {"secret_in_args"}
}

test_secret_in_trade_args_denied if {
	f.codes(with_secret(f.trade, {"type": "api_key", "pointer": "/args/reason"})) == {"secret_in_args"}
}

test_no_findings_allowed if {
	f.outcome(f.email) == "allow"
}

test_missing_findings_member_counts_as_none if {
	f.outcome(object.remove(f.email, ["findings"])) == "allow"
}

test_pii_alone_does_not_deny_email if {
	f.outcome(object.union(f.email, {"findings": {"pii": [{"type": "email_address", "pointer": "/args/body"}]}})) == "allow"
}

test_tool_may_opt_out_of_blanket_secret_denial if {
	# memory.write decides by label and scope instead (tools/memory.rego)
	inp := object.union(f.user_write, {"args": {"label": "secret"}, "findings": {"secrets": [{"type": "api_key", "pointer": "/args/content"}]}})
	f.outcome(inp) == "allow"
}

test_malformed_finding_still_counts if {
	inp := object.union(f.email, {"findings": {"secrets": [{"severity": "high"}]}})
	f.codes(inp) == {"secret_in_args"}
	some r in f.decide(inp).reasons
	contains(r.message, "secret at /args")
}

test_findings_within_a_pointer if {
	found := classification.pii_within("/args/content") with input as {"findings": {"pii": [
		{"type": "phone", "pointer": "/args/content"},
		{"type": "name", "pointer": "/args/content/0"},
		{"type": "name", "pointer": "/args/contents"},
	]}}
	count(found) == 2
}
