package toolgate.tools.trade_test

import data.toolgate.fixtures as f

test_suggest_is_advisory_and_allowed if {
	f.outcome(f.call("advisor", "trade.suggest", {"symbol": "NVDA", "side": "sell", "quantity": 10})) == "allow"
	f.decide(f.call("advisor", "trade.suggest", {})).obligations.audit.level == "standard"
}

test_place_needs_execute_capability if {
	f.codes(f.call("advisor", "trade.place", f.order)) == {"capability_missing"}
	f.outcome(f.trade) == "allow"
}

test_place_args_validated if {
	f.codes(f.trade_with({"symbol": ""})) == {"args_invalid"}
	f.codes(f.trade_with({"side": "short"})) == {"args_invalid"}
	f.codes(f.trade_with({"quantity": 0})) == {"args_invalid"}
	f.codes(f.trade_with({"quantity": "10"})) == {"args_invalid"}
	f.codes(f.without_arg(f.trade, "limit_price")) == {"args_invalid"}
}

test_order_notional_capped if {
	f.outcome(f.trade_with({"quantity": 66, "limit_price": 150})) == "approval_required"
	f.codes(f.trade_with({"quantity": 67, "limit_price": 150})) == {"order_too_large"}
	f.codes(f.trade_with({"quantity": 100, "limit_price": 150})) == {"order_too_large"}
}

test_order_quantity_capped if {
	f.outcome(f.trade_with({"quantity": 1000, "limit_price": 1})) == "allow"
	f.codes(f.trade_with({"quantity": 1001, "limit_price": 1})) == {"order_too_large"}
}

test_approval_above_threshold if {
	f.outcome(f.trade_with({"quantity": 16, "limit_price": 156.25})) == "allow"
	inp := f.trade_with({"quantity": 40})
	f.codes(inp) == {"order_above_approval_threshold"}
	f.outcome(object.union(inp, {"approval": f.approved})) == "allow"
}

test_reason_required if {
	f.codes(f.without_arg(f.trade, "reason")) == {"trade_reason_missing"}
	f.codes(f.trade_with({"reason": "  "})) == {"trade_reason_missing"}
}

test_inputs_required if {
	f.codes(f.without_arg(f.trade, "inputs")) == {"trade_inputs_missing"}
	f.codes(f.trade_with({"inputs": []})) == {"trade_inputs_missing"}
	f.codes(f.trade_with({"inputs": "quote"})) == {"trade_inputs_missing"}
}

test_per_agent_settings_override if {
	codes := f.codes(f.trade) with data.toolgate.config.agents.rebalancer.trade as {"max_order_notional": 1000}
	codes == {"order_too_large"}
}

test_budget_costs_the_notional if {
	some l in f.decide(f.trade_with({"quantity": 12, "limit_price": 100.5})).obligations.limits
	l.kind == "budget"
	l.cost == 1206
	l.max == 25000
	l.window_s == 86400
}
