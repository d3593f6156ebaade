# How much the audit trail records about this call: tools.<name>.audit ("standard" | "full" | "critical"),
# else defaults.audit, else "standard"; any break-glass token raises it to "critical".
package toolgate.audit

import data.toolgate.break_glass
import data.toolgate.lib

levels := {"standard", "full", "critical"}

default level := "standard"

level := "critical" if {
	break_glass.presented
} else := lib.tool_config.audit if {
	lib.tool_config.audit in levels
} else := lib.config.defaults.audit if {
	lib.config.defaults.audit in levels
}
