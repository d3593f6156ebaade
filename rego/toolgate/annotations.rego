# MCP tool annotations: what the service says of its tool in tools/list. The gateway puts them in
# input.tool.annotations (readOnlyHint, destructiveHint, idempotentHint, openWorldHint, each with the spec's default
# when the service omits it, and all defaults when the gateway has not seen the tool listed), with
# input.tool.definition_sha256 and input.tool.definition_known. They are the service's hints, so they only ever
# tighten: a tool that may change things destructively needs a person, unless a policy author reviewed it and let
# its own rules decide (tools.<name>.destructive_reviewed: true). Plain HTTP tool calls carry no annotations, so an
# unreviewed tool needs a person there too: the HTTP route is no way around the MCP service's own warning.
package toolgate.annotations

import data.toolgate.lib

# Harmless only by an explicit hint: a missing or malformed annotations object counts as destructive.
harmless if input.tool.annotations.readOnlyHint == true

harmless if input.tool.annotations.destructiveHint == false

approval contains lib.reason(
	"tool_destructive",
	sprintf("%s may make destructive changes (%s) and no policy author has cleared it to run unattended; ask an approver, then retry with the Toolgate-Approval header.", [lib.tool, why]),
) if {
	not harmless
	not lib.tool_config.destructive_reviewed == true
}

why := "a plain HTTP call carries no MCP annotations" if {
	input.tool.protocol != "mcp"
} else := "the gateway has not seen it in a tools/list, so the spec's defaults apply" if {
	not input.tool.definition_known == true
} else := "its service does not mark it read-only or non-destructive"
