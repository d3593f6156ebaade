# Break-glass: an emergency override a human issues (who, why, until, which tools) and the gateway verifies
# into input.break_glass = {"valid", "who", "why", "until", "until_ms"?, "scopes": [tool names or "*"]}.
#
# What it can do is data: break_glass.tools lists the tools it may be used on, break_glass.overridable the
# reason codes it may override ("approval_required" stands for every approval requirement). Some denials it
# can never override, whatever the data says (never_overridable below). Any presentation is audited at
# "critical"; every use adds the reason break_glass_used.
package toolgate.break_glass

import data.toolgate.lib

presented if is_object(input.break_glass)

token := input.break_glass if presented

# Denials that protect identity, data and humans' decisions: no emergency justifies skipping them.
never_overridable := {
	"agent_unverified", "agent_unknown", "tool_not_allowed", "args_invalid",
	"secret_in_args", "secret_to_room", "secret_mislabeled", "label_not_allowed_in_room",
	"cross_user_memory", "cross_room_memory", "user_memory_into_room", "not_room_member",
	"approval_denied", "approval_mismatch",
	"break_glass_invalid", "break_glass_out_of_scope", "break_glass_not_permitted",
}

valid if {
	token.valid == true
	lib.nonempty_string(token.who)
	lib.nonempty_string(token.why)
	not expired
}

# The gateway checks `until` when it verifies the token; if it also sends until_ms, check it here too.
expired if {
	is_number(token.until_ms)
	is_number(lib.context.now_ms)
	token.until_ms <= lib.context.now_ms
}

in_scope if {
	some scope in lib.list(token, "scopes")
	scope in {"*", lib.tool}
}

settings := lib.section(lib.config, "break_glass")

permitted_tool if lib.tool in lib.list(settings, "tools")

applies if {
	valid
	in_scope
	permitted_tool
}

# overrides(code): break-glass applies to this call and may set aside a denial with this code.
overrides(code) if {
	applies
	code in lib.list(settings, "overridable")
	not code in never_overridable
}

waives_approval if overrides("approval_required")

used := lib.reason(
	"break_glass_used",
	sprintf("Break-glass issued to %s (%s) was applied to this %s call; it is audited at critical level. Stop using it once the emergency is over.", [
		token.who, token.why, lib.tool,
	]),
) if applies

deny contains lib.reason(
	"break_glass_invalid",
	"The break-glass token is invalid, expired or lacks who/why; remove the Toolgate-Break-Glass header or have an approver issue a new token.",
) if {
	presented
	not valid
}

deny contains lib.reason(
	"break_glass_out_of_scope",
	sprintf("The break-glass token does not cover %s; use a token issued for this tool, or remove the header.", [lib.tool]),
) if {
	valid
	not in_scope
}

deny contains lib.reason(
	"break_glass_not_permitted",
	sprintf("Break-glass may not be used on %s (break_glass.tools in rego/data.json); remove the Toolgate-Break-Glass header.", [lib.tool]),
) if {
	valid
	in_scope
	not permitted_tool
}
