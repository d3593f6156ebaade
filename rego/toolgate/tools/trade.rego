# Scenario B, "rebalancing": trade.suggest (advisory) and trade.place (execution).
#
# Advisory by default: trade.place needs the trade.execute capability (tools."trade.place".requires_capability,
# checked in tools.rego), runs only in market hours (time.rego) and in prod/paper (environment.rego).
#
# trade.place args: {"symbol": str, "side": "buy"|"sell", "quantity": number > 0, "limit_price": number > 0,
#                    "reason": str, "inputs": [the data inputs the decision used, non-empty]}
# Order size is measured as notional = quantity * limit_price (so every order must carry a limit price);
# max_quantity optionally caps the share count too. Settings: data `trade`, overridden per agent by
# agents.<id>.trade.
package toolgate.tools.trade

import data.toolgate.lib

placing if lib.tool == "trade.place"

settings := object.union(lib.section(lib.config, "trade"), lib.section(lib.agent, "trade"))

symbol := lib.args.symbol if lib.nonempty_string(lib.args.symbol)

side := lib.args.side if lib.args.side in {"buy", "sell"}

quantity := lib.args.quantity if lib.positive_number(lib.args.quantity)

limit_price := lib.args.limit_price if lib.positive_number(lib.args.limit_price)

trade_reason := lib.args.reason if lib.nonempty_string(lib.args.reason)

# The order's value in the account currency: what the size cap, the approval threshold and the daily
# budget measure.
notional := quantity * limit_price

deny contains lib.reason(
	"args_invalid",
	"trade.place needs args.symbol, the instrument to trade (e.g. \"NVDA\").",
) if {
	placing
	not symbol
}

deny contains lib.reason(
	"args_invalid",
	"trade.place needs args.side, \"buy\" or \"sell\".",
) if {
	placing
	not side
}

deny contains lib.reason(
	"args_invalid",
	"trade.place needs args.quantity, a positive number.",
) if {
	placing
	not quantity
}

deny contains lib.reason(
	"args_invalid",
	"trade.place needs args.limit_price, a positive number: orders are limit orders so their size is known up front.",
) if {
	placing
	not limit_price
}

deny contains lib.reason(
	"order_too_large",
	sprintf("The order's notional (quantity x limit_price) is above the %v limit per order; split it or reduce it.", [settings.max_order_notional]),
) if {
	placing
	notional > settings.max_order_notional
}

deny contains lib.reason(
	"order_too_large",
	sprintf("The order is for more than %v units, the limit per order; reduce args.quantity.", [settings.max_quantity]),
) if {
	placing
	quantity > settings.max_quantity
}

deny contains lib.reason(
	"trade_reason_missing",
	"trade.place needs args.reason, a sentence saying why this trade is made (it goes into the audit trail).",
) if {
	placing
	not trade_reason
}

deny contains lib.reason(
	"trade_inputs_missing",
	"trade.place needs args.inputs, a non-empty array naming the data inputs (prices, rules, positions) the decision used.",
) if {
	placing
	not count(lib.list(lib.args, "inputs")) > 0
}

approval contains lib.reason(
	"order_above_approval_threshold",
	sprintf("Orders with a notional above %v need a human approval; ask an approver to approve this order, then retry with the Toolgate-Approval header.", [
		settings.approval_notional_threshold,
	]),
) if {
	placing
	notional > settings.approval_notional_threshold
}

# Limit obligations the gateway enforces with its shared state (limits.rego adds them to the decision):
# at most one order per cooldown, and a notional budget per window.
limits := array.concat(cooldown, budget)

cooldown := [{
	"key": concat(":", ["agent", lib.agent_id, "trade.place", "cooldown"]),
	"kind": "cooldown",
	"window_s": settings.cooldown_s,
	"max": 1,
	"cost": 1,
}] if {
	placing
	lib.positive_number(settings.cooldown_s)
} else := []

budget := [{
	"key": concat(":", ["agent", lib.agent_id, "trade.place", "notional"]),
	"kind": "budget",
	"window_s": object.get(settings, "budget_window_s", 86400),
	"max": settings.daily_notional_budget,
	"cost": notional,
}] if {
	placing
	lib.positive_number(settings.daily_notional_budget)
	notional
} else := []
