# Data classification: what the gateway's detectors found in the arguments.
#
# The gateway runs credential and PII detectors over args and reports findings as
# input.findings.secrets / input.findings.pii = [{"type": "aws_access_key", "pointer": "/args/body"}, ...].
# The policy never scans text itself: detectors are code, what to do about a finding is policy.
package toolgate.classification

import data.toolgate.lib

# Well-formed findings only; a finding without a type or pointer still counts, with a neutral description.
secrets := [finding(f) | some f in lib.list(lib.findings, "secrets")]

pii := [finding(f) | some f in lib.list(lib.findings, "pii")]

finding(f) := {"type": type_of(f), "pointer": pointer_of(f)}

type_of(f) := f.type if lib.nonempty_string(f.type)

else := "secret"

pointer_of(f) := f.pointer if is_string(f.pointer)

else := "/args"

# Findings at or below a JSON Pointer (e.g. everything in /args/content).
secrets_within(base) := [f | some f in secrets; lib.pointer_within(f.pointer, base)]

pii_within(base) := [f | some f in pii; lib.pointer_within(f.pointer, base)]

# "aws_access_key at /args/body, private_key at /args/attachments/0"; only the findings shown are formatted (a
# sprintf per finding was most of an evaluation with thousands of them).
describe(found) := lib.brief_counted(
	[sprintf("%s at %s", [f.type, f.pointer]) | some f in array.slice(found, 0, lib.brief_max)],
	count({[f.type, f.pointer] | some f in found}),
)

# Secrets never leave through a tool unless the tool opts out (tools.<name>.allow_secrets: true), as
# memory.write does: it decides by label and scope instead (tools/memory.rego).
deny contains lib.reason(
	"secret_in_args",
	sprintf("The arguments of %s contain a credential (%s); remove it and never send secrets through this tool.", [lib.tool, describe(secrets)]),
) if {
	count(secrets) > 0
	not tool_allows_secrets
}

tool_allows_secrets if lib.tool_config.allow_secrets == true
