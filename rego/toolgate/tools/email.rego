# Scenario A, "send receipts to the accountant": email.send and email.read_inbox.
#
# email.send args: {"to": [addr], "cc": [addr]?, "bcc": [addr]?, "subject": str?, "body": str?,
#                   "attachments": [upload id]?, "amount": number?}
# Settings: data `email`, overridden per agent by agents.<id>.email (objects merge, lists replace).
# Attachment provenance comes from the gateway's upload store (input.resources.attachments), never from args.
# Secrets in any argument are denied by classification.rego. Reading the inbox always needs approval
# (tools."email.read_inbox".requires_approval, approvals.rego).
package toolgate.tools.email

import data.toolgate.lib

sending if lib.tool == "email.send"

settings := object.union(lib.section(lib.config, "email"), lib.section(lib.agent, "email"))

# --- Recipients ---------------------------------------------------------------------------------------

recipient_fields := ["to", "cc", "bcc"]

normalize(address) := lower(trim_space(address))

# Every recipient of the message (to, cc and bcc), normalized: addresses compare case-insensitively.
recipients contains normalize(address) if {
	some field in recipient_fields
	some address in lib.list(lib.args, field)
	is_string(address)
}

allowed_addresses := {normalize(a) | some a in lib.list(settings, "allowed_recipients"); is_string(a)}

allowed_domains := {normalize(d) | some d in lib.list(settings, "allowed_domains"); is_string(d)}

usual_addresses := {normalize(a) | some a in lib.list(settings, "usual_recipients"); is_string(a)}

allowed_recipient(address) if address in allowed_addresses

allowed_recipient(address) if {
	parts := split(address, "@")
	count(parts) == 2
	parts[1] in allowed_domains
}

not_allowed := {r | some r in recipients; not allowed_recipient(r)}

deny contains lib.reason(
	"args_invalid",
	sprintf("email.send args.%s must be an array of e-mail addresses, e.g. [\"accountant@example.com\"].", [field]),
) if {
	sending
	some field in recipient_fields
	value := lib.args[field]
	not lib.string_array(value)
}

deny contains lib.reason(
	"args_invalid",
	"email.send needs at least one recipient in args.to.",
) if {
	sending
	count(lib.list(lib.args, "to")) == 0
}

deny contains lib.reason(
	"recipient_not_allowed",
	sprintf("Agent %s may only e-mail allowlisted recipients; remove %s or ask a policy author to add them to the agent's email allowlist.", [
		lib.agent_id, lib.join(not_allowed),
	]),
) if {
	sending
	count(not_allowed) > 0
}

# --- Attachments --------------------------------------------------------------------------------------

attachments_settings := lib.section(settings, "attachments")

attachment_ids := {id | some id in lib.list(lib.args, "attachments"); is_string(id)}

# What the gateway's upload store says about one id: every resolved entry carrying it.
records(id) := [r | some r in lib.list(lib.resources, "attachments"); is_object(r); r.id == id]

# Resolved: the gateway found the upload and knows its size.
found(id) if {
	entries := records(id)
	count(entries) > 0
	every r in entries {
		r.found == true
		is_number(r.size)
	}
}

user_upload(r) if {
	r.source in lib.list(attachments_settings, "sources")
	lib.nonempty_string(r.uploaded_by)
}

# Uploaded within the last max_age_minutes (and not in the future beyond the allowed clock skew).
recent(r) if {
	now := lib.context.now_ms
	uploaded := r.uploaded_at_ms
	is_number(now)
	is_number(uploaded)
	uploaded <= now + object.get(attachments_settings, "clock_skew_ms", 0)
	now - uploaded <= attachments_settings.max_age_minutes * 60000
}

unknown_ids := {id | some id in attachment_ids; not found(id)}

not_uploaded_ids := {id | some id in attachment_ids; found(id); some r in records(id); not user_upload(r)}

stale_ids := {id | some id in attachment_ids; found(id); some r in records(id); not recent(r)}

size_of(id) := max([r.size | some r in records(id)])

total_bytes := sum([size_of(id) | some id in attachment_ids; found(id)])

deny contains lib.reason(
	"args_invalid",
	"email.send args.attachments must be an array of upload ids (strings) returned by the upload endpoint.",
) if {
	sending
	value := lib.args.attachments
	not lib.string_array(value)
}

deny contains lib.reason(
	"attachment_unknown",
	sprintf("The gateway has no upload record for attachment(s) %s; attach only files a human uploaded through the gateway.", [lib.join(unknown_ids)]),
) if {
	sending
	count(unknown_ids) > 0
}

deny contains lib.reason(
	"attachment_not_user_upload",
	sprintf("Attachment(s) %s were not uploaded explicitly by a human; attach only files a user uploaded for this task.", [lib.join(not_uploaded_ids)]),
) if {
	sending
	count(not_uploaded_ids) > 0
}

deny contains lib.reason(
	"attachment_stale",
	sprintf("Attachment(s) %s were uploaded more than %v minutes ago (or at an unknown time); ask the user to upload them again.", [
		lib.join(stale_ids), attachments_settings.max_age_minutes,
	]),
) if {
	sending
	count(stale_ids) > 0
}

deny contains lib.reason(
	"attachments_too_large",
	sprintf("Attachments total %v bytes, over the %v-byte limit; send fewer or smaller files.", [total_bytes, attachments_settings.max_total_bytes]),
) if {
	sending
	total_bytes > attachments_settings.max_total_bytes
}

# --- Approval -----------------------------------------------------------------------------------------

approval_settings := lib.section(settings, "approval")

# Whole-word, case-insensitive match of approval.subject_words: the subject is split into words of letters
# and digits ("Tax-return 2025" -> {"tax", "return", "2025"}), so "taxonomy" does not match "tax" and
# "taxes" does not either: list plural forms too. One simple pattern, because the WASM runtime compiles a
# regex on every evaluation (an alternation of the words measured 5x slower).
subject_words := {lower(m[0]) |
	is_string(lib.args.subject)
	some m in regex.find_all_string_submatch_n(`[A-Za-z0-9]+`, lib.args.subject, -1)
}

sensitive_words := subject_words & {lower(w) | some w in lib.list(approval_settings, "subject_words"); is_string(w)}

unusual := recipients - usual_addresses

approval contains lib.reason(
	"subject_sensitive",
	sprintf("The subject mentions %s; a human must approve this e-mail before it is sent.", [lib.join(sensitive_words)]),
) if {
	sending
	count(sensitive_words) > 0
}

approval contains lib.reason(
	"recipients_unusual",
	sprintf("Not among agent %s's usual recipients: %s; a human must approve this e-mail before it is sent.", [
		lib.agent_id, lib.join(unusual),
	]),
) if {
	sending
	count(unusual) > 0
}

approval contains lib.reason(
	"amount_above_threshold",
	sprintf("The amount %v is above the %v approval threshold; a human must approve this e-mail before it is sent.", [
		lib.args.amount, approval_settings.amount_threshold,
	]),
) if {
	sending
	is_number(lib.args.amount)
	lib.args.amount > approval_settings.amount_threshold
}

deny contains lib.reason(
	"args_invalid",
	"email.send args.amount must be a number when present.",
) if {
	sending
	amount := lib.args.amount
	not is_number(amount)
}

deny contains lib.reason(
	"args_invalid",
	"email.send args.subject must be a string when present.",
) if {
	sending
	subject := lib.args.subject
	not is_string(subject)
}
