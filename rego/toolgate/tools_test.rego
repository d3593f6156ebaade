package toolgate.tools_test

import data.toolgate.fixtures as f

test_listed_tool_allowed if {
	f.outcome(f.call("rebalancer", "trade.suggest", {"symbol": "NVDA"})) == "allow"
}

test_unlisted_tool_denied if {
	inp := f.call("receipts-bot", "trade.place", f.order)
	f.codes(inp) == {"tool_not_allowed"}
	some r in f.decide(inp).reasons
	contains(r.message, "email.read_inbox, email.send")
}

test_missing_tool_name_denied if {
	inp := object.remove(f.call("advisor", "trade.suggest", {}), ["tool"])
	f.codes(inp) == {"tool_not_allowed"}
}

test_capability_missing_keeps_agent_advisory if {
	inp := f.call("advisor", "trade.place", f.order)
	f.codes(inp) == {"capability_missing"}
}

test_capability_held_allows_execution if {
	f.outcome(f.trade) == "allow"
}

test_args_must_be_an_object if {
	inp := object.union(f.call("advisor", "trade.suggest", {}), {"args": ["NVDA"]})
	f.codes(inp) == {"args_invalid"}
}

test_missing_args_count_as_empty if {
	inp := object.remove(f.call("advisor", "trade.suggest", {}), ["args"])
	f.outcome(inp) == "allow"
}

test_null_args_denied if {
	f.codes(object.union(f.call("advisor", "trade.suggest", {}), {"args": null})) == {"args_invalid"}
}
