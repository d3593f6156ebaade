package toolgate.identity_test

import data.toolgate.fixtures as f

test_verified_known_agent_allowed if {
	f.outcome(f.call("advisor", "trade.suggest", {})) == "allow"
}

test_unverified_agent_denied if {
	inp := object.union(f.call("advisor", "trade.suggest", {}), {"agent": {"verified": false}})
	f.outcome(inp) == "deny"
	f.codes(inp) == {"agent_unverified"}
}

test_verified_must_be_boolean_true if {
	inp := object.union(f.call("advisor", "trade.suggest", {}), {"agent": {"verified": "true"}})
	f.codes(inp) == {"agent_unverified"}
}

test_missing_agent_denied if {
	f.codes({"tool": {"name": "trade.suggest"}, "args": {}}) == {"agent_unverified"}
}

test_verified_without_id_denied if {
	inp := object.union(f.call("advisor", "trade.suggest", {}), {"agent": {"id": null}})
	f.codes(inp) == {"agent_unknown"}
}

test_unknown_agent_denied_and_nothing_else_revealed if {
	inp := f.call("mallory-bot", "email.send", {"to": ["eve@attacker.example"]})
	f.codes(inp) == {"agent_unknown"}
	f.decide(inp).obligations.limits == []
}
