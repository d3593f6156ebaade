# Checks on rego/data.json itself: a routine data change that breaks an assumption of the rules fails here,
# not in production.
package toolgate.data_test

import data.toolgate.break_glass
import data.toolgate.lib
import data.toolgate.tools.email

config := data.toolgate.config

agent_tools contains tool if {
	some agent in config.agents
	some tool in agent.tools
}

test_every_agent_lists_its_tools if {
	every id, agent in config.agents {
		is_string(id)
		lib.string_array(agent.tools)
		count(agent.tools) > 0
	}
}

test_every_tool_has_a_rate_limit if {
	every tool in agent_tools {
		rate := object.get(object.get(config.tools, tool, {}), "rate", config.defaults.rate)
		lib.positive_number(rate.window_s)
		lib.positive_number(rate.max)
	}
}

test_every_listed_tool_is_configured if {
	every tool in agent_tools {
		is_object(config.tools[tool])
	}
}

test_required_capabilities_are_granted_somewhere if {
	every tool in config.tools {
		capability_granted(tool)
	}
}

capability_granted(tool) if not tool.requires_capability

capability_granted(tool) if {
	some agent in config.agents
	tool.requires_capability in agent.capabilities
}

test_named_time_windows_exist if {
	every tool in config.tools {
		window_known(tool)
	}
}

window_known(tool) if not tool.time_window

window_known(tool) if is_object(config.time_windows[tool.time_window])

test_time_windows_are_well_formed if {
	every _, window in config.time_windows {
		every d in window.weekdays {
			d in numbers.range(1, 7)
		}
		regex.match(`^([01][0-9]|2[0-3]):[0-5][0-9]$`, window.start)
		regex.match(`^([01][0-9]|2[0-4]):[0-5][0-9]$`, window.end)
		window.start < window.end
	}
}

test_subject_words_are_plain_lowercase_words if {
	every w in config.email.approval.subject_words {
		regex.match(`^[a-z0-9]+$`, w)
	}
}

test_labels_have_retention if {
	every _, label in config.memory.labels {
		lib.positive_number(label.max_retention_days)
		is_boolean(label.room_allowed)
	}
	config.memory.labels.secret.room_allowed == false
}

test_break_glass_overrides_are_overridable if {
	every code in config.break_glass.overridable {
		not code in break_glass.never_overridable
	}
}

test_audit_levels_are_known if {
	every _, tool in config.tools {
		object.get(tool, "audit", "standard") in {"standard", "full", "critical"}
	}
}

# email.rego compares recipients with these entries without re-checking them on every evaluation.
email_settings contains config.email

email_settings contains agent.email if {
	some agent in config.agents
	is_object(agent.email)
}

# Keyed by the comparison key email.rego looks recipients up by (local part exact, domain lower-cased), each
# entry true: the rules never normalise data at evaluation time, so a key in another form would match nothing.
test_email_allowlists_are_keyed_in_comparison_form if {
	every settings in email_settings {
		every field in ["allowed_recipients", "usual_recipients"] {
			is_object(object.get(settings, field, {}))
			every address, value in object.get(settings, field, {}) {
				email.key(address) == address
				value == true
			}
		}
		is_object(object.get(settings, "allowed_domains", {}))
		every domain, value in object.get(settings, "allowed_domains", {}) {
			email.key(concat("@", ["x", domain])) == concat("@", ["x", domain])
			value == true
		}
	}
}

test_email_allowlist_checks_refuse_other_forms if {
	not email.key("ledger-partners.example")
	email.key("Accountant@Ledger-Partners.example") != "Accountant@Ledger-Partners.example"
}
