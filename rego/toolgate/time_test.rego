package toolgate.time_test

import data.toolgate.fixtures as f

at(weekday, hour, minute) := object.union(f.trade, {"context": {"weekday": weekday, "hour": hour, "minute": minute}})

test_inside_market_hours_allowed if {
	f.outcome(at(1, 10, 15)) == "allow"
}

test_opening_minute_allowed if {
	f.outcome(at(3, 9, 30)) == "allow"
}

test_before_open_denied if {
	f.codes(at(3, 9, 29)) == {"outside_time_window"}
}

test_close_is_exclusive if {
	f.outcome(at(5, 15, 59)) == "allow"
	f.codes(at(5, 16, 0)) == {"outside_time_window"}
}

test_weekend_denied if {
	f.codes(at(6, 11, 0)) == {"outside_time_window"}
	f.codes(at(7, 11, 0)) == {"outside_time_window"}
}

test_sunday_may_arrive_as_zero_or_seven if {
	f.codes(at(0, 11, 0)) == {"outside_time_window"}
	sundays := {"weekdays": [7], "start": "09:30", "end": "16:00"}
	zero := f.outcome(at(0, 11, 0)) with data.toolgate.config.time_windows.market_hours as sundays
	zero == "allow"
	seven := f.outcome(at(7, 11, 0)) with data.toolgate.config.time_windows.market_hours as sundays
	seven == "allow"
	monday := f.codes(at(1, 11, 0)) with data.toolgate.config.time_windows.market_hours as sundays
	monday == {"outside_time_window"}
}

test_weekday_out_of_range_is_missing_context if {
	f.codes(at(8, 11, 0)) == {"time_context_missing"}
}

test_message_says_when if {
	some r in f.decide(at(6, 11, 0)).reasons
	r.message == "trade.place is only allowed during market_hours (09:30-16:00 on weekdays 1,2,3,4,5, America/New_York); retry inside the window."
}

test_missing_minute_counts_as_zero if {
	no_minute := object.union(f.trade, {"context": {"hour": 9}})
	inp := object.union(no_minute, {"context": {"minute": null}})
	f.codes(inp) == {"outside_time_window"}
	f.outcome(object.union(inp, {"context": {"hour": 10}})) == "allow"
}

test_wrong_timezone_is_missing_context if {
	f.codes(object.union(f.trade, {"context": {"timezone": "UTC"}})) == {"time_context_missing"}
}

test_missing_hour_is_missing_context if {
	f.codes(object.union(f.trade, {"context": {"hour": "10"}})) == {"time_context_missing"}
}

test_undefined_window_denied if {
	inp := f.trade
	codes := f.codes(inp) with data.toolgate.config.tools["trade.place"].time_window as "night_shift"
	codes == {"time_context_missing"}
}

test_malformed_window_fails_closed if {
	codes := f.codes(f.trade) with data.toolgate.config.time_windows.market_hours.start as "half past nine"
	codes == {"outside_time_window"}
}

test_tool_without_window_runs_any_time if {
	inp := object.union(f.call("advisor", "trade.suggest", {}), {"context": {"weekday": 7, "hour": 3}})
	f.outcome(inp) == "allow"
}
