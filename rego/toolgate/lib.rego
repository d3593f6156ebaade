# Shared vocabulary for every policy file: safe views of the input and of the configuration.
#
# The gateway sends a well-formed input, but the decision must be defined for any object, so nothing here
# assumes a member exists or has the right type. Policy files read `lib.args`, `lib.tool`, ... instead of
# `input.args`, `input.tool.name`, ... and never have to guard against missing members themselves.
package toolgate.lib

# Configuration: rego/data.json, loaded as data.toolgate.config.
default config := {}

config := data.toolgate.config if is_object(data.toolgate.config)

# section(obj, key) is obj[key] when that is an object, else {}: nested configuration without guards.
section(obj, key) := obj[key] if is_object(obj[key])

else := {}

# --- The calling agent ---------------------------------------------------------------------------------

# A signed request the gateway verified. Nothing else about the agent counts until this holds.
verified if input.agent.verified == true

# The verified agent's id; "" when the agent is unverified or has no id.
default agent_id := ""

agent_id := input.agent.id if {
	verified
	nonempty_string(input.agent.id)
}

# The agent's entry in data (agents.<id>), {} for unknown agents.
agent := section(section(config, "agents"), agent_id)

# --- The tool call ------------------------------------------------------------------------------------

default tool := ""

tool := input.tool.name if is_string(input.tool.name)

# tools.<name> in data, {} for tools without an entry.
tool_config := section(section(config, "tools"), tool)

default args := {}

args := input.args if is_object(input.args)

# Facts the gateway resolved (attachment provenance, ...), never the agent's say-so.
default resources := {}

resources := input.resources if is_object(input.resources)

# Time and environment, from the gateway's clock and deployment.
default context := {}

context := input.context if is_object(input.context)

# What the gateway's detectors found in args: arrays of {"type", "pointer"}.
default findings := {}

findings := input.findings if is_object(input.findings)

# --- Helpers ------------------------------------------------------------------------------------------

# The one way a policy file states why: a stable snake_case code and a sentence that says what to do.
# Every code must be listed in rego/reason_codes.json (scripts/policy.sh check enforces it).
reason(code, message) := {"code": code, "message": message}

nonempty_string(x) if {
	is_string(x)
	trim_space(x) != ""
}

positive_number(x) if {
	is_number(x)
	x > 0
}

string_array(x) if {
	is_array(x)
	every v in x {
		is_string(v)
	}
}

# list(obj, key) is obj[key] when that is an array, else []: `some v in lib.list(...)` never errors.
list(obj, key) := obj[key] if is_array(obj[key])

else := []

# Sorted, comma-separated: deterministic text for messages, for lists the configuration bounds (an agent's
# tools, a few labels). `sort` is quadratic in the WASM runtime (32,000 strings: 2.8 s), so a list the
# arguments can grow goes through brief instead.
join(items) := concat(", ", sort(items))

# In the WASM runtime `x in s` scans s element by element; inside a loop over the arguments that is quadratic.
# Look a value up as s[x] (a hash lookup) when s can grow with the input.

# At most brief_max items of an array the arguments can grow (recipients, attachment ids, findings), then how
# many more distinct ones there are: "a, b (and 3 more)". The items shown are the first ones in argument
# order, sorted, so the text is the same in opa eval and in WASM and its cost is linear in the input.
brief_max := 10

brief(items) := brief_counted(items, count({x | some x in items}))

# brief of a list of which only the first brief_max items need be given, with the number of its distinct items:
# a caller that formats each item (sprintf) formats only those it shows, so a long list costs one pass, not one
# callout per item.
brief_counted(first, distinct) := concat("", [join(shown), more_text(distinct - count(shown))]) if {
	shown := {x | some x in array.slice(first, 0, brief_max)}
}

more_text(0) := ""

more_text(n) := sprintf(" (and %v more)", [n]) if n > 0

# A JSON Pointer at or below base ("/args/content" covers "/args/content" and "/args/content/0").
pointer_within(pointer, base) if pointer == base

pointer_within(pointer, base) if startswith(pointer, concat("", [base, "/"]))
