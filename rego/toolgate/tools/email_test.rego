package toolgate.tools.email_test

import data.toolgate.fixtures as f

with_uploads(inp, uploads) := object.union(object.remove(inp, ["resources"]), {"resources": {"attachments": uploads}})

message(inp, code) := r.message if {
	some r in f.decide(inp).reasons
	r.code == code
}

# --- recipients ---

# The address cutsets are ordered for speed (most common letters first); what counts is the set each holds:
# RFC 5322 atext and "." for the local part, letters, digits, "-" and "." for the domain, each character once.
chars(s) := [c | some c in split(s, "")]

letters := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

test_local_part_cutset_is_atext_and_dot if {
	expected := {c | some c in chars(concat("", [letters, "0123456789", "!#$%&'*+-/=?^_`{|}~", "."]))}
	{c | some c in chars(data.toolgate.tools.email.local_chars)} == expected
	count(chars(data.toolgate.tools.email.local_chars)) == count(expected)
}

test_domain_cutset_is_letters_digits_hyphen_dot if {
	expected := {c | some c in chars(concat("", [letters, "0123456789", "-."]))}
	{c | some c in chars(data.toolgate.tools.email.domain_chars)} == expected
	count(chars(data.toolgate.tools.email.domain_chars)) == count(expected)
}

test_allowlisted_recipient_allowed if {
	f.outcome(f.email) == "allow"
	f.decide(f.email).reasons == []
}

# Domains compare case-insensitively (host names are); local parts exactly, as the receiving host may.
test_recipient_domain_compares_case_insensitively if {
	f.outcome(f.email_with({"to": ["accountant@LEDGER-Partners.example"]})) == "allow"
}

test_recipient_local_part_compares_exactly if {
	inp := f.email_with({"to": ["Accountant@ledger-partners.example"]})
	f.codes(inp) == {"recipient_not_allowed"}
	contains(message(inp, "recipient_not_allowed"), "remove Accountant@ledger-partners.example")
}

# Judged exactly as the tool will send it: no folding (U+212A KELVIN SIGN lowers to "k") and no trimming
# (a no-break space, a tab, a CRLF) can make an address the policy allowed differ from the one used.
test_recipient_not_folded_or_trimmed if {
	every address in [
		"bac\u212Aup@ledger-partners.example",
		"\u00a0accountant@ledger-partners.example",
		"accountant@ledger-partners.example\r\n",
		" accountant@ledger-partners.example",
		"accountant@ledger-partners.example\t",
		"accountant@ledger-partners.example\u0000",
		"acc\u200bountant@ledger-partners.example",
		"accountant@ledger-partners.example.",
		"Accountant <accountant@ledger-partners.example>",
		"\"accountant\"@ledger-partners.example",
		"accountant@ledger-partners.example,eve@attacker.example",
		"accountant@ledger-partners.example\nBcc: eve@attacker.example",
		"a@b@ledger-partners.example",
		"@ledger-partners.example",
		"accountant@",
		"accountant@localhost",
		"accountant@-ledger.example",
		"a..b@ledger-partners.example",
		"",
	] {
		f.codes(f.email_with({"to": [address]})) == {"recipient_malformed"}
	}
}

test_malformed_recipient_named_by_position if {
	inp := f.email_with({"to": ["accountant@ledger-partners.example"], "cc": ["ok@ledger-partners.example", "\u00a0accountant@ledger-partners.example"]})
	"recipient_malformed" in f.codes(inp)
	contains(message(inp, "recipient_malformed"), "fix args.cc[1].")
}

test_recipient_length_limits if {
	long_local := concat("", [concat("", ["a" | some _ in numbers.range(1, 65)]), "@ledger-partners.example"])
	f.codes(f.email_with({"to": [long_local]})) == {"recipient_malformed"}
	long_domain := concat("", ["a@", concat(".", ["abcdefghi" | some _ in numbers.range(1, 26)]), ".example"])
	f.codes(f.email_with({"to": [long_domain]})) == {"recipient_malformed"}
}

test_full_atext_local_part_is_well_formed if {
	inp := f.email_with({"to": ["o'brien+receipts/x=1{a}~!#$%&*?^_`|-@ledger-partners.example"]})
	f.codes(inp) == {"recipient_not_allowed"}
}

test_allowlist_entries_are_held_to_the_same_form if {
	inp := f.email_with({"to": ["bac\u212Aup@ledger-partners.example"]})
	codes := f.codes(inp) with data.toolgate.config.agents["receipts-bot"].email.allowed_recipients as {"bac\u212Aup@ledger-partners.example": true}
	codes == {"recipient_malformed"}
	codes2 := f.codes(f.email_with({"to": ["x@ledger-partners.example"]})) with data.toolgate.config.agents["receipts-bot"].email.allowed_domains as {" ledger-partners.example": true}
	codes2 == {"recipient_not_allowed"}
}

# A message names at most ten recipients and counts the rest, so its cost stays linear in their number.
test_long_recipient_lists_are_summarised if {
	many := [sprintf("user%d@attacker.example", [i]) | some i in numbers.range(1, 30)]
	inp := f.email_with({"to": array.concat(many, many)})
	msg := message(inp, "recipient_not_allowed")
	contains(msg, "remove user10@attacker.example, user1@attacker.example, user2@attacker.example")
	contains(msg, "(and 20 more)")
	not contains(msg, "user11@")
}

test_recipient_not_on_allowlist_denied if {
	inp := f.email_with({"to": ["eve@attacker.example", "accountant@ledger-partners.example"]})
	f.codes(inp) == {"recipient_not_allowed"}
	contains(message(inp, "recipient_not_allowed"), "remove eve@attacker.example")
}

test_cc_and_bcc_are_checked_too if {
	f.codes(f.email_with({"cc": ["eve@attacker.example"]})) == {"recipient_not_allowed"}
	f.codes(f.email_with({"bcc": ["eve@attacker.example"]})) == {"recipient_not_allowed"}
}

test_allowed_domain if {
	inp := f.email_with({"to": ["partner@audit.example"]})
	f.codes(inp) == {"recipient_not_allowed"}
	codes := f.codes(inp) with data.toolgate.config.agents["receipts-bot"].email.allowed_domains as {"audit.example": true}
	codes == {"recipients_unusual"}
	upper := f.codes(f.email_with({"to": ["partner@AUDIT.example"]})) with data.toolgate.config.agents["receipts-bot"].email.allowed_domains as {"audit.example": true}
	upper == {"recipients_unusual"}
}

# An agent's allowlist replaces the top-level one of the same name (it does not add to it); a top-level one
# serves agents without their own; false and non-object entries allow nothing.
test_recipient_allowlists_replace_per_agent if {
	inp := f.email_with({"to": ["partner@audit.example"]})
	top_address := f.codes(inp) with data.toolgate.config.email.allowed_recipients as {"partner@audit.example": true}
	top_address == {"recipient_not_allowed"}
	top_domain := f.codes(inp) with data.toolgate.config.email.allowed_domains as {"audit.example": true}
	top_domain == {"recipients_unusual"}
	own_domains := f.codes(inp) with data.toolgate.config.email.allowed_domains as {"audit.example": true}
		with data.toolgate.config.agents["receipts-bot"].email.allowed_domains as {}
	own_domains == {"recipient_not_allowed"}

	# One `with` for the whole configuration: two on overlapping paths do not both apply.
	shared := object.union(
		json.remove(data.toolgate.config, ["agents/receipts-bot/email"]),
		{"email": {"allowed_recipients": {"partner@audit.example": true}}},
	)
	no_own := f.codes(inp) with data.toolgate.config as shared
	no_own == {"recipients_unusual"}
	falsy := f.codes(inp) with data.toolgate.config.agents["receipts-bot"].email.allowed_domains as {"audit.example": false}
	falsy == {"recipient_not_allowed"}
	listed := f.codes(f.email_with({})) with data.toolgate.config.agents["receipts-bot"].email.allowed_recipients as ["accountant@ledger-partners.example"]
	listed == {"recipient_not_allowed"}
	unusual := f.codes(f.email_with({})) with data.toolgate.config.agents["receipts-bot"].email.usual_recipients as {"accountant@ledger-partners.example": false}
	unusual == {"recipients_unusual"}
}

test_recipients_must_be_string_arrays if {
	f.codes(f.email_with({"to": "accountant@ledger-partners.example"})) == {"args_invalid"}
	f.codes(f.email_with({"cc": [42]})) == {"args_invalid"}
}

test_at_least_one_recipient if {
	f.codes(f.email_with({"to": []})) == {"args_invalid"}
	f.codes(f.without_arg(f.email, "to")) == {"args_invalid"}
}

# --- attachments ---

test_fresh_user_upload_allowed if {
	f.outcome(with_uploads(f.email, [f.upload("upl_1", 29, 1000)])) == "allow"
}

test_no_attachments_allowed if {
	f.outcome(f.without_arg(f.email, "attachments")) == "allow"
}

test_unresolved_attachment_denied if {
	f.codes(with_uploads(f.email, [])) == {"attachment_unknown"}
	f.codes(with_uploads(f.email, [{"id": "upl_1", "found": false}])) == {"attachment_unknown"}
	f.codes(with_uploads(f.email, [object.remove(f.upload("upl_1", 5, 1), ["size"])])) == {"attachment_unknown"}
}

test_attachment_provenance_comes_from_the_gateway_only if {
	# an agent describing the upload in args changes nothing
	inp := with_uploads(f.email_with({"attachments": ["upl_2"], "provenance": {"upl_2": "user_upload"}}), [f.upload("upl_1", 5, 1)])
	f.codes(inp) == {"attachment_unknown"}
}

test_attachment_not_uploaded_by_a_human_denied if {
	f.codes(with_uploads(f.email, [object.union(f.upload("upl_1", 5, 1), {"source": "agent_generated"})])) == {"attachment_not_user_upload"}
	f.codes(with_uploads(f.email, [object.union(f.upload("upl_1", 5, 1), {"uploaded_by": ""})])) == {"attachment_not_user_upload"}
}

test_stale_attachment_denied if {
	inp := with_uploads(f.email, [f.upload("upl_1", 31, 1000)])
	f.codes(inp) == {"attachment_stale"}
	contains(message(inp, "attachment_stale"), "more than 30 minutes")
}

test_attachment_from_the_future_denied if {
	f.codes(with_uploads(f.email, [f.upload("upl_1", -2, 1000)])) == {"attachment_stale"}
	f.outcome(with_uploads(f.email, [f.upload("upl_1", -0.5, 1000)])) == "allow"
}

# The window's edges to the millisecond: exactly max_age_minutes old and exactly clock_skew_ms ahead still count.
at_ms(ms) := with_uploads(f.email, [object.union(f.upload("upl_1", 0, 1000), {"uploaded_at_ms": ms})])

test_attachment_age_edges if {
	f.outcome(at_ms(f.now_ms - (30 * 60000))) == "allow"
	f.codes(at_ms((f.now_ms - (30 * 60000)) - 1)) == {"attachment_stale"}
	f.outcome(at_ms(f.now_ms + 60000)) == "allow"
	f.codes(at_ms((f.now_ms + 60000) + 1)) == {"attachment_stale"}
	f.codes(at_ms("1795965300000")) == {"attachment_stale"}
}

test_attachment_without_clock_denied if {
	f.codes(object.remove(f.email, ["context"])) == {"attachment_stale"}
}

test_total_attachment_size_capped if {
	two := f.email_with({"attachments": ["upl_1", "upl_2"]})
	f.outcome(with_uploads(two, [f.upload("upl_1", 5, 10485760), f.upload("upl_2", 5, 10485760)])) == "allow"
	big := with_uploads(two, [f.upload("upl_1", 5, 10485760), f.upload("upl_2", 5, 10485761)])
	f.codes(big) == {"attachments_too_large"}
	message(big, "attachments_too_large") == "Attachments total 20971521 bytes, over the 20971520-byte limit; send fewer or smaller files."
}

# The tool sends an id listed twice twice: each listing counts toward the total (one 15 MB upload listed twice is
# 30 MB), while the sizes come from the upload store once per id.
test_duplicate_ids_count_each_time_listed if {
	inp := with_uploads(f.email_with({"attachments": ["upl_1", "upl_1"]}), [f.upload("upl_1", 5, 15000000), f.upload("upl_1", 5, 15000000)])
	f.codes(inp) == {"attachments_too_large"}
	message(inp, "attachments_too_large") == "Attachments total 30000000 bytes, over the 20971520-byte limit; send fewer or smaller files."
	small := with_uploads(f.email_with({"attachments": ["upl_1", "upl_1"]}), [f.upload("upl_1", 5, 1000), f.upload("upl_1", 5, 1000)])
	f.outcome(small) == "allow"
}

test_attachments_must_be_ids if {
	f.codes(f.email_with({"attachments": "upl_1"})) == {"args_invalid"}
}

# --- approval ---

test_sensitive_subject_words_need_approval if {
	every subject in ["Tax documents", "INVOICE #42", "salary slips", "re: tax-return"] {
		f.codes(f.email_with({"subject": subject})) == {"subject_sensitive"}
	}
	contains(message(f.email_with({"subject": "Invoice and TAX"}), "subject_sensitive"), "invoice, tax")
}

test_recipients_bounded_before_any_address_is_checked if {
	hundred := [a | some _ in numbers.range(1, 100); a := "accountant@ledger-partners.example"]
	f.outcome(f.email_with({"to": hundred})) == "allow"
	f.codes(f.email_with({"to": hundred, "cc": ["accountant@ledger-partners.example"]})) == {"args_invalid"}

	# Malformed or not allowlisted addresses past the bound are not looked at: only the bound is reported.
	many := [a | some i in numbers.range(1, 150); a := sprintf("x%v@@nowhere", [i])]
	f.codes(f.email_with({"to": many})) == {"args_invalid"}
}

test_subject_longer_than_a_header_line_is_refused_before_the_word_check if {
	long := concat("", array.concat(["Receipts"], [" tax" | some _ in numbers.range(1, 300)]))
	count(long) > 998
	f.codes(f.email_with({"subject": long})) == {"args_invalid"}
	line := concat("", [" " | some _ in numbers.range(1, 998)])
	f.outcome(f.email_with({"subject": line})) == "allow"
	f.codes(f.email_with({"subject": concat("", [line, "x"])})) == {"args_invalid"}
}

test_subject_words_match_whole_words_only if {
	every subject in ["Taxonomy of receipts", "syntax notes", "Receipts for October"] {
		f.outcome(f.email_with({"subject": subject})) == "allow"
	}
}

test_subject_words_at_every_position if {
	every subject in ["tax", "tax!", "(tax)", "x tax", "Receipts, TAX", "tax tax", "taxtax tax", "ré tax é", "Tax-return 2025", "tax_return", "\u00e9tax\u00e9"] {
		f.codes(f.email_with({"subject": subject})) == {"subject_sensitive"}
	}
	every subject in ["taxtax", "xtax", "taxx", "tax2", "2tax"] {
		f.outcome(f.email_with({"subject": subject})) == "allow"
	}
}

# Characters that lower() turns into ASCII letters are not letters of a word as sent.
test_subject_words_not_joined_by_folded_letters if {
	every subject in ["ta\u212Ax", "\u0130nvoice", "tax\u0130"] {
		f.codes(f.email_with({"subject": subject})) == codes_of(subject)
	}
}

codes_of("ta\u212Ax") := set()

codes_of("\u0130nvoice") := set()

codes_of("tax\u0130") := {"subject_sensitive"}

test_missing_subject_allowed if {
	f.outcome(f.without_arg(f.email, "subject")) == "allow"
}

test_subject_must_be_a_string if {
	f.codes(f.email_with({"subject": ["tax"]})) == {"args_invalid"}
}

test_unusual_recipient_needs_approval if {
	inp := f.email_with({"cc": ["backup@ledger-partners.example"]})
	f.outcome(inp) == "approval_required"
	f.codes(inp) == {"recipients_unusual"}
	contains(message(inp, "recipients_unusual"), "backup@ledger-partners.example")
}

test_amount_above_threshold_needs_approval if {
	f.outcome(f.email_with({"amount": 999.5})) == "allow"
	f.codes(f.email_with({"amount": 1500})) == {"amount_above_threshold"}
	f.codes(f.email_with({"amount": "1500"})) == {"args_invalid"}
}

test_inbox_needs_approval if {
	f.codes(f.call("receipts-bot", "email.read_inbox", {})) == {"tool_requires_approval"}
}
