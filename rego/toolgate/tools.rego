# Which tools an agent may call at all: a per-agent allowlist (agents.<id>.tools) and, for higher-trust
# tools, a capability the agent must hold (tools.<name>.requires_capability in agents.<id>.capabilities).
package toolgate.tools

import data.toolgate.identity
import data.toolgate.lib

# Checked only for known agents: identity.rego explains everything else.
known_agent if identity.known

allowed if {
	known_agent
	lib.tool in lib.list(lib.agent, "tools")
}

deny contains lib.reason(
	"tool_not_allowed",
	"The request names no tool; call POST /tools/{tool} or an MCP tools/call with params.name.",
) if {
	known_agent
	lib.tool == ""
}

deny contains lib.reason(
	"tool_not_allowed",
	sprintf("Agent %s may not call %s; use one of its tools (%s) or ask a policy author to add %s to agents.%s.tools.", [
		lib.agent_id, lib.tool, lib.join(lib.list(lib.agent, "tools")), lib.tool, lib.agent_id,
	]),
) if {
	known_agent
	lib.tool != ""
	not allowed
}

deny contains lib.reason(
	"capability_missing",
	sprintf("%s needs the %s capability, which agent %s does not hold; use an advisory tool instead, or ask a policy author to grant it in agents.%s.capabilities.", [
		lib.tool, capability, lib.agent_id, lib.agent_id,
	]),
) if {
	allowed
	capability := lib.tool_config.requires_capability
	not capability in lib.list(lib.agent, "capabilities")
}

deny contains lib.reason(
	"args_invalid",
	sprintf("The arguments of %s must be a JSON object; send the tool's arguments as one object.", [lib.tool]),
) if {
	allowed
	sent := input.args # a missing args member counts as {}; anything else must be an object
	not is_object(sent)
}
