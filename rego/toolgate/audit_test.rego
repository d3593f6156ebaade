package toolgate.audit_test

import data.toolgate.fixtures as f

level(inp) := f.decide(inp).obligations.audit.level

test_full_for_email_send if {
	level(f.email) == "full"
}

test_full_for_trade_place if {
	level(f.trade) == "full"
}

test_standard_elsewhere if {
	level(f.room_write) == "standard"
	level(f.call("receipts-bot", "email.read_inbox", {})) == "standard"
}

test_critical_with_break_glass if {
	level(object.union(f.room_write, {"break_glass": f.break_glass})) == "critical"
}

test_default_level_from_data if {
	got := level(f.room_write) with data.toolgate.config.defaults.audit as "full"
	got == "full"
}

test_unknown_level_falls_back_to_standard if {
	got := level(f.room_write) with data.toolgate.config.tools["memory.write"].audit as "verbose"
		with data.toolgate.config.defaults.audit as "loud"
	got == "standard"
}
