# Who is acting: only a verified agent that the configuration knows gets any further.
#
# Style note for the whole library: after `not`, name a rule (`not known`), never a call on a member that
# may be missing (`not is_object(input.x)`): OPA evaluates such a member before the negation, so a missing
# member would make the whole rule undefined instead of true.
package toolgate.identity

import data.toolgate.lib

deny contains lib.reason(
	"agent_unverified",
	"The request carries no verified agent signature; sign it with the agent's registered key (RFC 9421 or Web Bot Auth) and retry.",
) if not lib.verified

deny contains lib.reason(
	"agent_unknown",
	"The request was signed but carries no agent id; the gateway must map the signing key to an agent id.",
) if {
	lib.verified
	lib.agent_id == ""
}

deny contains lib.reason(
	"agent_unknown",
	sprintf("Agent %s has no entry in the policy configuration; ask a policy author to add it under agents in rego/data.json.", [lib.agent_id]),
) if {
	lib.agent_id != ""
	not known
}

# A verified agent with an entry under agents in data: the only callers the rest of the policy serves.
known if is_object(lib.config.agents[lib.agent_id])
