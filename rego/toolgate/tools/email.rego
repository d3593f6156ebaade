# Scenario A, "send receipts to the accountant": email.send and email.read_inbox.
#
# email.send args: {"to": [addr], "cc": [addr]?, "bcc": [addr]?, "subject": str?, "body": str?,
#                   "attachments": [upload id]?, "amount": number?}
# Settings: data `email`, overridden per agent by agents.<id>.email (sections merge key by key, lists replace,
# and so do the keyed recipient allowlists).
# Attachment provenance comes from the gateway's upload store (input.resources.attachments), never from args.
# Secrets in any argument are denied by classification.rego. Reading the inbox always needs approval
# (tools."email.read_inbox".requires_approval, approvals.rego).
package toolgate.tools.email

import data.toolgate.lib

sending if lib.tool == "email.send"

config_email := lib.section(lib.config, "email")

agent_email := lib.section(lib.agent, "email")

# The agent's settings merged over the top-level ones, section by section (objects merge key by key), for the
# small sections only: object.union walks both sides on every evaluation, so merging the whole email object
# would copy the recipient allowlists (10,000 entries: milliseconds) into every decision. An agent without the
# section takes the top-level one as it is: no merge to build on every evaluation.
settings(name) := object.union(lib.section(config_email, name), lib.section(agent_email, name)) if has_key(agent_email, name)

else := lib.section(config_email, name)

# --- Recipients ---------------------------------------------------------------------------------------

recipient_fields := ["to", "cc", "bcc"]

# How many recipients one e-mail may have (to, cc and bcc together): data email.max_recipients, 100 by default. Each
# address costs the checks below up to its 254 characters, so without a bound 4,000 long addresses (1 MiB) took the
# policy 400-700 ms, near its time budget; past the bound the call is refused before any address is checked.
max_recipients := config_email.max_recipients if lib.positive_number(config_email.max_recipients)

else := 100

recipient_count := sum([count(lib.list(lib.args, field)) | some field in recipient_fields])

deny contains lib.reason(
	"args_invalid",
	sprintf("email.send takes at most %v recipients (to, cc and bcc together), not %v; send to fewer, or in several messages.", [max_recipients, recipient_count]),
) if {
	sending
	recipient_count > max_recipients
}

# Every recipient (to, cc, bcc) exactly as the tool will receive it, in argument order; none past the bound.
addresses := [address |
	recipient_count <= max_recipients
	some field in recipient_fields
	some address in lib.list(lib.args, field)
	is_string(address)
]

# An address is judged as the tool will use it, never a folded or trimmed copy: lower() maps U+212A KELVIN SIGN
# to "k" and trim_space() drops a leading no-break space or a trailing CRLF, so the policy would judge one
# mailbox and the tool write to another. Only plain ASCII addresses are accepted: a dot-atom local part
# (RFC 5322 atext, at most 64 characters), "@", and a host name of letters, digits and hyphens with at least
# one dot (labels neither start nor end with a hyphen), 254 characters in all; internationalised domains go in
# their xn-- form. Anything else, display names and quoted local parts included, is refused
# (recipient_malformed).
#
# Checked with string builtins instead of one regular expression: the WASM runtime compiles a pattern on every
# evaluation, and this one (with the 63-character label bound) cost 220 us per decision, 10x the whole
# policy; trim() with the allowed characters as its cutset leaves "" only when every character is allowed.
# The runtime's trim() walks the cutset for every character until it finds it, so the cutsets list the letters
# most common in addresses first: lower case by English letter frequency, then digits and the usual punctuation,
# then upper case (12 us for one address with the cutset in ASCII order, 6 us lower case first; by frequency, the
# demo decision about 2 % faster again, in alternating batches of both builds). The sets are what count:
# data_test.rego checks that they hold exactly the characters allowed.
local_chars := "etaoinsrhldcumfpgwybvkxjqz.0123456789-_+ETAOINSRHLDCUMFPGWYBVKXJQZ!#$%&'*/=?^`{|}~"

domain_chars := "etaoinsrhldcumfpgwybvkxjqz.-0123456789ETAOINSRHLDCUMFPGWYBVKXJQZ"

# The comparison key of a well-formed address, undefined for any other: the local part exactly (RFC 5321 2.4
# lets the receiving host treat it case-sensitively) and the domain in lower case (host names are
# case-insensitive; a well-formed address is ASCII, so lower() changes A-Z only). The local part ends at the
# first "@", and the domain's character set has none, so there is exactly one.
key(address) := concat("@", [local, lower(domain)]) if {
	count(address) <= 254
	at := indexof(address, "@")
	at > 0
	at <= 64
	local := substring(address, 0, at)
	trim(local, local_chars) == ""
	not bad_dots(local)
	domain := substring(address, at + 1, -1)
	contains(domain, ".")
	trim(domain, domain_chars) == ""
	not bad_dots(domain)
	not bad_hyphens(domain)
}

well_formed(address) if key(address)

# An empty dot-atom part: a leading or trailing dot, or two in a row.
bad_dots(s) if startswith(s, ".")

bad_dots(s) if endswith(s, ".")

bad_dots(s) if contains(s, "..")

# A host name label starting or ending with a hyphen.
bad_hyphens(domain) if startswith(domain, "-")

bad_hyphens(domain) if endswith(domain, "-")

bad_hyphens(domain) if contains(domain, "-.")

bad_hyphens(domain) if contains(domain, ".-")

# Each distinct recipient is checked once; every later question about it is a lookup keyed by value (s[x], not
# `x in s`, which the WASM runtime answers by scanning s), so the rules stay linear in the number of
# recipients. The rules before sorted every recipient into the message (sort is quadratic in WASM): 24,000
# recipients froze the gateway for 3.8 s.
keys := {address: key(address) | some address in addresses}

# Allowlists in data: objects keyed by the comparison key (`{"accountant@ledger-partners.example": true}`,
# domains `{"ledger-partners.example": true}`), looked up as they are. They used to be lists turned into sets
# here, and OPA's WASM runtime computes every rule anew on each evaluation: the sets were rebuilt per decision,
# which cost linear time in the data (10,000 entries: 17.7 ms a decision). data_test.rego checks that the shipped
# keys are well-formed and in comparison form (domain lower-cased), so they are not re-checked here.
#
# An agent's own entry replaces the top-level one, as the lists did (a merge would widen the agent's allowlist by
# the top-level one); an entry that is not an object allows nothing.
keyed(name) := lib.section(agent_email, name) if has_key(agent_email, name)

else := lib.section(config_email, name)

has_key(obj, key) if _ = obj[key]

allowed_addresses := keyed("allowed_recipients")

allowed_domains := keyed("allowed_domains")

usual_addresses := keyed("usual_recipients")

allowed_recipient(k) if allowed_addresses[k]

allowed_recipient(k) if allowed_domains[substring(k, indexof(k, "@") + 1, -1)]

allowed := {address | some address, k in keys; allowed_recipient(k)}

# Where the malformed recipients are ("args.to[0]"): their text may be invisible or look like another address.
malformed := [sprintf("args.%s[%v]", [field, i]) |
	recipient_count <= max_recipients
	some field in recipient_fields
	some i, address in lib.list(lib.args, field)
	is_string(address)
	not keys[address]
]

# In argument order, as the tool will use them; lib.brief shows ten and counts the rest.
not_allowed := [address | some address in addresses; keys[address]; not allowed[address]]

unusual := [address | some address in addresses; k := keys[address]; not usual_addresses[k]]

deny contains lib.reason(
	"recipient_malformed",
	sprintf("email.send recipients must be plain ASCII addresses, local@domain without spaces, line breaks, display names or look-alike letters, because they are compared exactly as the tool sends them; fix %s.", [lib.brief(malformed)]),
) if {
	sending
	count(malformed) > 0
}

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
		lib.agent_id, lib.brief(not_allowed),
	]),
) if {
	sending
	count(not_allowed) > 0
}

# --- Attachments --------------------------------------------------------------------------------------

attachments_settings := settings("attachments")

attachment_list := [id | some id in lib.list(lib.args, "attachments"); is_string(id)]

attachment_ids := {id | some id in attachment_list}

upload_entries := lib.list(lib.resources, "attachments")

# What the gateway's upload store says, by id: the positions in upload_entries of every resolved entry carrying
# it. Built once, in one pass over the entries; a function filtering the list per id would be quadratic in the
# number of attachments. Positions, not the entries: the WASM runtime hashes a set's members whenever it adds or
# walks one, and hashing the entries' eight fields (the 64-character sha256 among them) was a fifth of an allowed
# decision; a number hashes in constant time.
positions[id] contains i if {
	some i, r in upload_entries
	is_object(r)
	id := r.id
}

# Resolved: the gateway found the upload and knows its size.
found(id) if {
	at := positions[id]
	every i in at {
		upload_entries[i].found == true
		is_number(upload_entries[i].size)
	}
}

# The resolved ids, found once each: every rule below asks about each id, and a function's answer is not kept.
found_ids contains id if {
	some id in attachment_ids
	found(id)
}

upload_sources := lib.list(attachments_settings, "sources")

user_upload(r) if {
	r.source in upload_sources
	lib.nonempty_string(r.uploaded_by)
}

# Uploaded within the last max_age_minutes (and not in the future beyond the allowed clock skew). The bounds are
# computed once per decision: numbers from JSON go through the runtime's decimal arithmetic, so each upload is
# only compared with them.
latest_upload := now + object.get(attachments_settings, "clock_skew_ms", 0) if {
	now := lib.context.now_ms
	is_number(now)
}

earliest_upload := now - (attachments_settings.max_age_minutes * 60000) if {
	now := lib.context.now_ms
	is_number(now)
}

recent(r) if {
	uploaded := r.uploaded_at_ms
	is_number(uploaded)
	uploaded <= latest_upload
	uploaded >= earliest_upload
}

unknown_ids := [id | some id in attachment_list; not found_ids[id]]

not_uploaded_ids := [id | some id in attachment_list; found_ids[id]; some i in positions[id]; not user_upload(upload_entries[i])]

stale_ids := [id | some id in attachment_list; found_ids[id]; some i in positions[id]; not recent(upload_entries[i])]

size_of(id) := max([upload_entries[i].size | some i in positions[id]])

# Every attachment as the tool will send it: an id listed twice is two copies (summing distinct ids let one 15 MiB
# upload listed 64 times through a 20 MiB limit).
total_bytes := sum([size_of(id) | some id in attachment_list; found_ids[id]])

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
	sprintf("The gateway has no upload record for attachment(s) %s; attach only files a human uploaded through the gateway.", [lib.brief(unknown_ids)]),
) if {
	sending
	count(unknown_ids) > 0
}

deny contains lib.reason(
	"attachment_not_user_upload",
	sprintf("Attachment(s) %s were not uploaded explicitly by a human; attach only files a user uploaded for this task.", [lib.brief(not_uploaded_ids)]),
) if {
	sending
	count(not_uploaded_ids) > 0
}

deny contains lib.reason(
	"attachment_stale",
	sprintf("Attachment(s) %s were uploaded more than %v minutes ago (or at an unknown time); ask the user to upload them again.", [
		lib.brief(stale_ids), attachments_settings.max_age_minutes,
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

approval_settings := settings("approval")

# Whole-word, case-insensitive match of approval.subject_words: the subject's words are its runs of ASCII
# letters and digits ("Tax-return 2025" -> "tax", "return", "2025"), so "taxonomy" does not match "tax" and
# "taxes" does not either: list plural forms too.
#
# Without a regular expression: the WASM runtime compiles a pattern on every evaluation, and tokenizing the
# subject with `[A-Za-z0-9]+` cost about 10 us, a sixth of an allowed decision. Instead each configured word
# (a handful) is looked for in the lower-cased subject, and an occurrence counts when no letter or digit
# touches it on either side. Only two characters lower-case into ASCII letters (U+212A KELVIN SIGN into "k",
# U+0130 into "i"): neither is a letter of a word as sent, so they become spaces first, or "ta\u212Ax" would
# read as "tax". Measured with the demo data: about 4 us less per decision than the regex; contains() first,
# so a subject with none of the words costs one pass per word.
sensitive_words := {w | some w in listed_words; contains(subject_folded, w); whole_word(subject_folded, w)}

# An array, not a set: a set hashes every word as it is built, and sensitive_words drops repeats anyway.
listed_words := [lower(w) | some w in lib.list(approval_settings, "subject_words"); is_string(w)]

subject_folded := lower(strings.replace_n({"\u212a": " ", "\u0130": " "}, lib.args.subject)) if {
	is_string(lib.args.subject)
	count(lib.args.subject) <= max_subject_chars
}

# The word check's cost grows with the subject's occurrences of a word ("tax " 250,000 times ran the policy to its
# time budget), so a subject longer than one RFC 5322 line (998 characters) is refused before any word is looked
# for: sensitive_words is then empty and the call is denied for its subject instead.
max_subject_chars := 998

deny contains lib.reason(
	"args_invalid",
	sprintf("email.send args.subject has %d characters, more than the %d of one e-mail header line; shorten it.", [count(lib.args.subject), max_subject_chars]),
) if {
	sending
	is_string(lib.args.subject)
	count(lib.args.subject) > max_subject_chars
}

word_chars := "abcdefghijklmnopqrstuvwxyz0123456789"

# Looked up as word_char[c] (a hash lookup) for the characters around an occurrence; a literal, because a
# comprehension would be rebuilt on every evaluation.
word_char := {
	"a": true,
	"b": true,
	"c": true,
	"d": true,
	"e": true,
	"f": true,
	"g": true,
	"h": true,
	"i": true,
	"j": true,
	"k": true,
	"l": true,
	"m": true,
	"n": true,
	"o": true,
	"p": true,
	"q": true,
	"r": true,
	"s": true,
	"t": true,
	"u": true,
	"v": true,
	"w": true,
	"x": true,
	"y": true,
	"z": true,
	"A": true,
	"B": true,
	"C": true,
	"D": true,
	"E": true,
	"F": true,
	"G": true,
	"H": true,
	"I": true,
	"J": true,
	"K": true,
	"L": true,
	"M": true,
	"N": true,
	"O": true,
	"P": true,
	"Q": true,
	"R": true,
	"S": true,
	"T": true,
	"U": true,
	"V": true,
	"W": true,
	"X": true,
	"Y": true,
	"Z": true,
	"0": true,
	"1": true,
	"2": true,
	"3": true,
	"4": true,
	"5": true,
	"6": true,
	"7": true,
	"8": true,
	"9": true,
}

# w is one of the subject's words: w is a word at all (only letters and digits: no run of them could equal
# anything else), and some occurrence of w in s has no letter or digit right before or right after it.
# split() cuts s at every occurrence from left to right; occurrence j lies between parts[j] and parts[j + 1].
# An occurrence preceded by an empty part (other than the first) follows another occurrence directly, and one
# followed by an empty part (other than the last) precedes another: neither is a whole word.
whole_word(s, w) if {
	w != ""
	trim(w, word_chars) == ""
	parts := split(s, w)
	last := count(parts) - 1
	last > 0
	some j in numbers.range(0, last - 1)
	open_before(parts[j], j)
	open_after(parts[j + 1], j + 1, last)
}

open_before(part, j) if {
	j == 0
	part == ""
}

open_before(part, _) if {
	part != ""
	not word_char[substring(part, count(part) - 1, 1)]
}

open_after(part, i, last) if {
	i == last
	part == ""
}

open_after(part, _, _) if {
	part != ""
	not word_char[substring(part, 0, 1)]
}

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
		lib.agent_id, lib.brief(unusual),
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
