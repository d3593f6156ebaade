package toolgate.environment_test

import data.toolgate.fixtures as f

in_env(inp, env) := object.union(inp, {"context": {"environment": env}})

test_trade_place_allowed_in_prod if {
	f.outcome(in_env(f.trade, "prod")) == "allow"
}

test_trade_place_allowed_in_paper if {
	f.outcome(in_env(f.trade, "paper")) == "allow"
}

test_trade_place_denied_in_staging if {
	inp := in_env(f.trade, "staging")
	f.codes(inp) == {"environment_not_allowed"}
	some r in f.decide(inp).reasons
	contains(r.message, "paper, prod")
}

test_trade_place_denied_without_environment if {
	inp := object.remove(f.trade, ["context"])
	"environment_not_allowed" in f.codes(inp)
}

test_unrestricted_tool_runs_anywhere if {
	f.outcome(in_env(f.call("advisor", "trade.suggest", {}), "staging")) == "allow"
}
