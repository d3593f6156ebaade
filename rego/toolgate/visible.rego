# Which tools an agent sees in an MCP tools/list: the ones it may ever call. data.toolgate.visible is evaluated once
# per listed tool with the caller's identity (input.agent) and the tool (input.tool.name), no arguments. A tool the
# agent's allowlist or capabilities rule out for every call is hidden; a tool that arguments, the time, limits or an
# approval could still allow stays visible (and each call is decided as always, so a hidden tool called directly is
# still refused). Entrypoint toolgate/visible; the gateway reads only `true`, anything else hides the tool.
package toolgate

import data.toolgate.tools

default visible := false

visible if {
	tools.allowed # a verified, known agent, and the tool on its allowlist
	not visible_capability_withheld
}

# The tool needs a capability the agent does not hold: no call of it can be allowed without one.
visible_capability_withheld if {
	some r in tools.deny
	r.code == "capability_missing"
}
