package toolgate.visible_test

import data.toolgate.fixtures as f

visible(agent_id, tool) if {
	data.toolgate.visible with input as object.remove(f.call(agent_id, tool, {}), ["args"])
}

test_listed_tool_visible if {
	visible("advisor", "trade.suggest")
	visible("receipts-bot", "email.read_inbox") # needs an approval for every call, but can be called
}

test_tool_held_by_capability_visible if {
	visible("rebalancer", "trade.place")
}

test_unlisted_tool_hidden if {
	not visible("receipts-bot", "trade.place")
}

test_capability_missing_hidden if {
	not visible("advisor", "trade.place")
}

test_unknown_or_unverified_agent_sees_nothing if {
	not visible("nobody", "trade.suggest")
	inp := object.union(f.call("advisor", "trade.suggest", {}), {"agent": {"verified": false}})
	not data.toolgate.visible with input as inp
}

test_visible_is_always_a_boolean if {
	is_boolean(data.toolgate.visible) with input as {}
	not data.toolgate.visible with input as {}
}

# Every tool hidden from an agent is refused when that agent calls it anyway, whatever the arguments: the list and
# the decision come from the same rules (checked for every agent and tool in data).
test_hidden_tools_are_refused_when_called if {
	config := data.toolgate.config
	every agent_id, _ in config.agents {
		every tool, _ in config.tools {
			hidden_means_refused(agent_id, tool)
		}
	}
}

hidden_means_refused(agent_id, tool) if visible(agent_id, tool)

hidden_means_refused(agent_id, tool) if {
	not visible(agent_id, tool)
	inp := f.call(agent_id, tool, {})
	f.outcome(inp) == "deny"
	f.codes(inp) & {"tool_not_allowed", "capability_missing"} != set()
}
