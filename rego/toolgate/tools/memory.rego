# Scenario C, "multi-user context": memory.write and memory.read with scopes and labels.
#
# memory.write args: {"scope": "user"|"room", "label": "public"|"internal"|"secret", "on_behalf_of": user,
#                     "owner": user (user scope), "room": room id (room scope), "content": any,
#                     "retention_days": number > 0}
# memory.read args:  {"scope": "user"|"room", "on_behalf_of": user, "owner": user (user scope),
#                     "room": room id (room scope), "into_room": room id? (where the result will be shown)}
#
# on_behalf_of is the human the agent acts for; it is the agent's signed claim. The owner of user-scoped
# memory is args.owner, of room-scoped memory args.room. Labels and their retention live in data
# `memory.labels`; settings are overridden per agent by agents.<id>.memory.
package toolgate.tools.memory

import data.toolgate.classification
import data.toolgate.lib

writing if lib.tool == "memory.write"

reading if lib.tool == "memory.read"

memory_call if writing

memory_call if reading

settings := object.union(lib.section(lib.config, "memory"), lib.section(lib.agent, "memory"))

scope := lib.args.scope if lib.args.scope in {"user", "room"}

acting_user := lib.args.on_behalf_of if lib.nonempty_string(lib.args.on_behalf_of)

owner := lib.args.owner if lib.nonempty_string(lib.args.owner)

room := lib.args.room if lib.nonempty_string(lib.args.room)

into_room := lib.args.into_room if lib.nonempty_string(lib.args.into_room)

label := lib.args.label if is_object(settings.labels[lib.args.label])

label_settings := settings.labels[label]

retention_days := lib.args.retention_days if lib.positive_number(lib.args.retention_days)

# --- Shape ---------------------------------------------------------------------------------------------

deny contains lib.reason(
	"args_invalid",
	sprintf("%s needs args.scope, \"user\" (one person's memory) or \"room\" (a shared room's memory).", [lib.tool]),
) if {
	memory_call
	not scope
}

deny contains lib.reason(
	"args_invalid",
	sprintf("%s needs args.on_behalf_of, the user the agent acts for.", [lib.tool]),
) if {
	memory_call
	not acting_user
}

deny contains lib.reason(
	"args_invalid",
	sprintf("%s with scope \"user\" needs args.owner, the user whose memory it is.", [lib.tool]),
) if {
	memory_call
	scope == "user"
	not owner
}

deny contains lib.reason(
	"args_invalid",
	sprintf("%s with scope \"room\" needs args.room, the room whose memory it is.", [lib.tool]),
) if {
	memory_call
	scope == "room"
	not room
}

deny contains lib.reason(
	"args_invalid",
	"memory.read args.into_room must be a room id when present; omit it for a private context.",
) if {
	reading
	value := lib.args.into_room
	not into_room
	value != null
}

deny contains lib.reason(
	"label_required",
	sprintf("memory.write needs args.label, one of %s; label the data by how sensitive it is.", [lib.join({name | some name, _ in lib.section(settings, "labels")})]),
) if {
	writing
	not label
}

# --- Boundaries: no cross-user recall -----------------------------------------------------------------

deny contains lib.reason(
	"cross_user_memory",
	sprintf("%s may only touch the memory of the user it acts for (%s), not that of %s; act on behalf of the owner instead.", [
		lib.tool, acting_user, owner,
	]),
) if {
	memory_call
	scope == "user"
	owner != acting_user
}

deny contains lib.reason(
	"user_memory_into_room",
	sprintf("User-scoped memory may not be recalled into room %s; read it only in a private context (omit args.into_room).", [into_room]),
) if {
	reading
	scope == "user"
	into_room
}

deny contains lib.reason(
	"cross_room_memory",
	sprintf("Memory of room %s may not be recalled into room %s; read a room's memory only in that room.", [room, into_room]),
) if {
	reading
	scope == "room"
	into_room != room
}

# Optional (memory.require_room_membership): the acting user must be in the room. The gateway then sends
# input.resources.room = {"id", "members": [user ids]} from its chat platform.
deny contains lib.reason(
	"not_room_member",
	sprintf("%s is not a member of room %s; only members may use a room's memory.", [acting_user, room]),
) if {
	memory_call
	scope == "room"
	settings.require_room_membership == true
	not room_member
}

room_member if {
	lib.resources.room.id == room
	acting_user in lib.list(lib.resources.room, "members")
}

# --- Classification: secrets never enter a room -------------------------------------------------------

arg_secrets := classification.secrets_within("/args")

deny contains lib.reason(
	"label_not_allowed_in_room",
	sprintf("Data labelled %s may not be written to room %s; keep it in the user's own memory (scope \"user\").", [label, room]),
) if {
	writing
	scope == "room"
	not label_allowed_in_room
}

# The secret label is never allowed in a room, whatever the data says.
label_allowed_in_room if {
	label != "secret"
	label_settings.room_allowed == true
}

deny contains lib.reason(
	"secret_to_room",
	sprintf("The content contains a credential (%s) and may not enter room %s; remove it.", [classification.describe(arg_secrets), room]),
) if {
	writing
	scope == "room"
	count(arg_secrets) > 0
}

deny contains lib.reason(
	"secret_mislabeled",
	sprintf("The content contains a credential (%s) but is labelled %s; label it \"secret\" or remove the credential.", [
		classification.describe(arg_secrets), label,
	]),
) if {
	writing
	scope == "user"
	count(arg_secrets) > 0
	label != "secret"
}

# PII may enter a room only redacted: the gateway redacts every string a PII detector flagged, wherever it
# sits in the arguments (args.content, args.notes.content, a list item, ...), before the write, and records
# what it removed. A list of fields to redact would leave PII anywhere else in the room, and memory.read would
# hand it to everyone there. In finding order (deterministic, and linear: sort is quadratic in WASM); a pointer
# repeats when two detectors flag the same string, and the gateway applies it once.
redact_request := [f.pointer |
	writing
	scope == "room"
	some f in classification.pii
]

# --- Retention ---------------------------------------------------------------------------------------

deny contains lib.reason(
	"retention_required",
	sprintf("memory.write needs args.retention_days, a positive number of days%s.", [retention_hint]),
) if {
	writing
	not retention_days
}

retention_hint := sprintf(" (at most %v for %s data)", [label_settings.max_retention_days, label]) if {
	label_settings.max_retention_days
} else := ""

deny contains lib.reason(
	"retention_too_long",
	sprintf("%s data may be kept at most %v days; lower args.retention_days.", [label, label_settings.max_retention_days]),
) if {
	writing
	retention_days > label_settings.max_retention_days
}
