# Limit obligations: the policy says which counters a call spends, the gateway keeps the counters
# (memory or Redis) and answers 429 rate_limited / budget_exceeded when one is exhausted.
#
# Every tool gets a rate limit: agents.<id>.rates.<tool>, else tools.<tool>.rate, else defaults.rate, each
# {"window_s", "max"}; the key is "agent:<id>:<tool>" and each call costs 1. Tool files add their own
# (trade.place: a cooldown and a daily notional budget).
package toolgate.limits

import data.toolgate.lib
import data.toolgate.tools.trade

rate_config := lib.agent.rates[lib.tool] if {
	is_object(lib.agent.rates[lib.tool])
} else := lib.tool_config.rate if {
	is_object(lib.tool_config.rate)
} else := lib.config.defaults.rate

rate := {
	# concat is native in the WASM runtime; sprintf calls out to JavaScript (~6% of an allowed evaluation).
	"key": concat(":", ["agent", lib.agent_id, lib.tool]),
	"kind": "rate",
	"window_s": rate_config.window_s,
	"max": rate_config.max,
	"cost": 1,
}

# The obligations for this call, in a fixed order: rate first, then tool-specific ones.
default obligations := []

obligations := array.concat([rate], tool_limits)

# Only trade.place's file adds limits; consulted for its calls only (see tool_denies in decision.rego).
tool_limits := trade.limits if trade.placing

else := []
