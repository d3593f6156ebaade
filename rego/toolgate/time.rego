# Time windows: tools.<name>.time_window names a window in time_windows; calls outside it are denied.
#
# The gateway computes the local weekday, hour (0-23) and, optionally, minute (0-59) in the timezone named by
# data `timezone`, and sends them as input.context.weekday / hour / minute with input.context.timezone.
# Weekdays in data are ISO 8601 (1 = Monday ... 7 = Sunday); the gateway may send Sunday as 0 (JavaScript's
# getDay) or 7. Policy never reads a clock (no time.now_ns): decisions replay exactly.
package toolgate.time

import data.toolgate.lib

window_name := lib.tool_config.time_window if is_string(lib.tool_config.time_window)

window := lib.config.time_windows[window_name]

# Minutes since local midnight; a missing minute counts as 0, so a window opening at 09:30 stays closed for
# all of 09:xx unless the gateway sends minutes (fail closed).
now_minutes := (lib.context.hour * 60) + minute

default minute := 0

minute := lib.context.minute if is_number(lib.context.minute)

# "09:30" -> 570
minutes_of(hhmm) := (to_number(parts[0]) * 60) + to_number(parts[1]) if {
	parts := split(hhmm, ":")
	count(parts) == 2
}

# ISO weekday: Sunday may arrive as 0.
weekday := 7 if lib.context.weekday == 0

else := lib.context.weekday

clock_known if {
	lib.context.weekday in {0, 1, 2, 3, 4, 5, 6, 7}
	is_number(lib.context.hour)
	lib.context.timezone == lib.config.timezone
}

inside if {
	weekday in window.weekdays
	now_minutes >= minutes_of(window.start)
	now_minutes < minutes_of(window.end)
}

deny contains lib.reason(
	"time_context_missing",
	sprintf("%s is restricted to the %s window, but the gateway sent no local weekday/hour for timezone %s; the gateway must fill input.context.", [
		lib.tool, window_name, tz,
	]),
) if {
	window_name
	not clock_known
	tz := object.get(lib.config, "timezone", "(unset)")
}

deny contains lib.reason(
	"time_context_missing",
	sprintf("%s names time window %s, which rego/data.json does not define; a policy author must add it under time_windows.", [lib.tool, window_name]),
) if {
	window_name
	not window_defined
}

window_defined if is_object(window)

deny contains lib.reason(
	"outside_time_window",
	sprintf("%s is only allowed during %s (%s-%s on weekdays %s, %s); retry inside the window.", [
		lib.tool, window_name, window.start, window.end, concat(",", [format_int(d, 10) | some d in window.weekdays]), lib.config.timezone,
	]),
) if {
	window_defined # first: tools without a window (most calls) never read the clock
	clock_known
	not inside
}
