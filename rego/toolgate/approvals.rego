# Human approval: what a presented approval means, and the approvals every tool needs.
#
# Rules anywhere in the library ask for approval by adding a reason to their `approval` set; decision.rego
# collects them. Without an approval the outcome is approval_required: the gateway parks the call, a human
# approves it through the approvals API, and the agent retries with `Toolgate-Approval: <id>`. The gateway
# resolves that id into input.approval = {"id", "status", "approved_by"} (it also checks the approval was
# granted for this very call, reporting status "mismatch" otherwise, or "definition_changed" when only the MCP
# tool's listed definition differs from the one the approval was granted for). Only status "approved" satisfies the
# approval; every other status is a deny with its own code. An approval presented for a call that needs none
# changes nothing.
package toolgate.approvals

import data.toolgate.lib

# Tools that always need a human (tools.<name>.requires_approval: true), e.g. reading the inbox.
approval contains lib.reason(
	"tool_requires_approval",
	sprintf("Every %s call needs a human approval; ask an approver to approve it, then retry with the Toolgate-Approval header.", [lib.tool]),
) if lib.tool_config.requires_approval == true

presented if is_object(input.approval)

satisfied if input.approval.status == "approved"

default approval_id := "(no id)"

approval_id := input.approval.id if lib.nonempty_string(input.approval.id)

# How long a pending approval stays open: tools.<name>.approval_ttl_s, else approvals.ttl_s.
default ttl_s := 900

ttl_s := lib.tool_config.approval_ttl_s if lib.positive_number(lib.tool_config.approval_ttl_s)

else := lib.config.approvals.ttl_s if lib.positive_number(lib.config.approvals.ttl_s)

# Why a presented approval does not count. Decision.rego uses this only when approval is needed.
problem := lib.reason(
	"approval_denied",
	sprintf("Approval %s was denied by a human; do not retry this call.", [approval_id]),
) if {
	input.approval.status == "denied"
} else := lib.reason(
	"approval_expired",
	sprintf("Approval %s expired before it was used; retry without the Toolgate-Approval header to request a new one.", [approval_id]),
) if {
	input.approval.status == "expired"
} else := lib.reason(
	"approval_used",
	sprintf("Approval %s was already used; each approval covers one call. Retry without the header to request a new one.", [approval_id]),
) if {
	input.approval.status == "used"
} else := lib.reason(
	"approval_mismatch",
	sprintf("Approval %s was granted for a different call (agent, tool or arguments differ); request an approval for this exact call.", [approval_id]),
) if {
	input.approval.status == "mismatch"
} else := lib.reason(
	"approval_definition_changed",
	sprintf("Approval %s was granted for an earlier definition of %s; its service changed the tool since. Retry without the Toolgate-Approval header to request an approval for the tool as it is now.", [approval_id, lib.tool]),
) if {
	input.approval.status == "definition_changed"
} else := lib.reason(
	"approval_pending",
	sprintf("Approval %s is still waiting for a human; retry once it is approved.", [approval_id]),
) if {
	input.approval.status == "pending"
} else := lib.reason(
	"approval_invalid",
	sprintf("Approval %s is not known to the gateway; retry without the Toolgate-Approval header to request a new one.", [approval_id]),
)
