# Environment restrictions: tools.<name>.environments lists where a tool may run (input.context.environment,
# set by the gateway's deployment, never by the agent). A tool without the list runs everywhere.
package toolgate.environment

import data.toolgate.lib

default environment := ""

environment := lib.context.environment if is_string(lib.context.environment)

deny contains lib.reason(
	"environment_not_allowed",
	sprintf("%s is not available in environment \"%s\"; it runs only in %s. Call it from one of those deployments.", [
		lib.tool, environment, lib.join(allowed),
	]),
) if {
	allowed := lib.tool_config.environments
	is_array(allowed)
	not environment in allowed
}
