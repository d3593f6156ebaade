package toolgate.limits_test

import data.toolgate.fixtures as f

limits(inp) := f.decide(inp).obligations.limits

test_rate_limit_from_tool_config if {
	limits(f.email) == [{"key": "agent:receipts-bot:email.send", "kind": "rate", "window_s": 3600, "max": 20, "cost": 1}]
}

test_agent_rate_overrides_tool_rate if {
	got := limits(f.email) with data.toolgate.config.agents["receipts-bot"].rates as {"email.send": {"window_s": 60, "max": 2}}
	got == [{"key": "agent:receipts-bot:email.send", "kind": "rate", "window_s": 60, "max": 2, "cost": 1}]
}

test_default_rate_for_tools_without_one if {
	inp := f.call("receipts-bot", "email.archive", {})
	got := limits(inp) with data.toolgate.config.agents["receipts-bot"].tools as ["email.archive"]
	got == [{"key": "agent:receipts-bot:email.archive", "kind": "rate", "window_s": 60, "max": 30, "cost": 1}]
}

test_no_rate_configured_anywhere_means_no_rate_obligation if {
	# data_test.rego makes sure this never ships
	inp := f.call("receipts-bot", "email.archive", {})
	got := limits(inp) with data.toolgate.config.agents["receipts-bot"].tools as ["email.archive"]
		with data.toolgate.config.defaults.rate as null
	got == []
}

test_trade_place_spends_rate_cooldown_and_budget if {
	limits(f.trade) == [
		{"key": "agent:rebalancer:trade.place", "kind": "rate", "window_s": 3600, "max": 10, "cost": 1},
		{"key": "agent:rebalancer:trade.place:cooldown", "kind": "cooldown", "window_s": 300, "max": 1, "cost": 1},
		{"key": "agent:rebalancer:trade.place:notional", "kind": "budget", "window_s": 86400, "max": 25000, "cost": 1500},
	]
}

test_trade_suggest_spends_only_rate if {
	limits(f.call("advisor", "trade.suggest", {})) == [{"key": "agent:advisor:trade.suggest", "kind": "rate", "window_s": 60, "max": 30, "cost": 1}]
}

test_no_budget_or_cooldown_when_unset if {
	got := limits(f.trade) with data.toolgate.config.trade.cooldown_s as 0
		with data.toolgate.config.trade.daily_notional_budget as null
	got == [{"key": "agent:rebalancer:trade.place", "kind": "rate", "window_s": 3600, "max": 10, "cost": 1}]
}

test_denied_call_spends_nothing if {
	limits(f.email_with({"to": ["eve@attacker.example"]})) == []
}

test_approval_required_call_names_its_limits if {
	inp := f.trade_with({"quantity": 40})
	f.outcome(inp) == "approval_required"
	count(limits(inp)) == 3
}
