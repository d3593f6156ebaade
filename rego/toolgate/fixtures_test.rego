# Inputs and helpers shared by the tests. A _test.rego file, so it never reaches the bundle.
package toolgate.fixtures

# Monday 2026-11-23 10:15 in New York.
now_ms := 1795965300000

context := {
	"now": "2026-11-23T15:15:00.000Z",
	"now_ms": now_ms,
	"weekday": 1,
	"hour": 10,
	"minute": 15,
	"timezone": "America/New_York",
	"environment": "prod",
	"gateway_id": "gw-test-1",
}

# A complete input for a verified agent calling tool with args.
call(agent_id, tool, args) := {
	"request": {"method": "POST", "path": concat("", ["/tools/", tool]), "host": "127.0.0.1", "body_sha256": "", "content_length": 0},
	"agent": {"verified": true, "scheme": "rfc9421", "id": agent_id, "key_id": "k1", "thumbprint": "t", "signature_agent": null, "labels": {}},
	"tool": {"name": tool, "protocol": "http"},
	"args": args,
	"resources": {"attachments": []},
	"findings": {"secrets": [], "pii": []},
	"context": context,
	"approval": null,
	"break_glass": null,
}

# What the gateway's upload store reports for a human upload made `age_min` minutes ago.
upload(id, age_min, size) := {
	"id": id,
	"found": true,
	"source": "user_upload",
	"uploaded_by": "alice@example.com",
	"uploaded_at": "2026-11-23T15:10:00.000Z",
	"uploaded_at_ms": now_ms - (age_min * 60000),
	"size": size,
	"sha256": "ab",
}

# --- Scenario A -------------------------------------------------------------------------------------

email_args := {
	"to": ["accountant@ledger-partners.example"],
	"subject": "Receipts for October",
	"body": "Attached.",
	"attachments": ["upl_1"],
}

email := object.union(call("receipts-bot", "email.send", email_args), {"resources": {"attachments": [upload("upl_1", 5, 1000)]}})

# email with some args replaced
email_with(args) := object.union(email, {"args": args})

# --- Scenario B -------------------------------------------------------------------------------------

order := {
	"symbol": "NVDA",
	"side": "sell",
	"quantity": 10,
	"limit_price": 150,
	"reason": "NVDA above 10% of the portfolio; trim to 7%.",
	"inputs": ["quote:NVDA", "rule:nvda-max-10pct"],
}

trade := call("rebalancer", "trade.place", order)

trade_with(args) := object.union(trade, {"args": args})

# --- Scenario C -------------------------------------------------------------------------------------

room_write := call("room-assistant", "memory.write", {
	"scope": "room",
	"room": "room-42",
	"label": "internal",
	"on_behalf_of": "alice",
	"content": "standup moved to 10:00",
	"retention_days": 30,
})

user_write := call("room-assistant", "memory.write", {
	"scope": "user",
	"owner": "alice",
	"label": "internal",
	"on_behalf_of": "alice",
	"content": "likes green tea",
	"retention_days": 30,
})

user_read := call("room-assistant", "memory.read", {"scope": "user", "owner": "alice", "on_behalf_of": "alice", "query": "tea"})

room_read := call("room-assistant", "memory.read", {"scope": "room", "room": "room-42", "on_behalf_of": "alice", "query": "standup"})

# --- Helpers ------------------------------------------------------------------------------------------

with_args(inp, args) := object.union(inp, {"args": args})

approved := {"id": "apr_1", "status": "approved", "approved_by": "bob"}

break_glass := {
	"valid": true,
	"who": "carol@example.com",
	"why": "INC-1: market halt",
	"until": "2026-11-23T18:15:00Z",
	"scopes": ["*"],
}

without_arg(inp, key) := object.union(object.remove(inp, ["args"]), {"args": object.remove(inp.args, [key])})

# The decision for an input, and the set of its reason codes.
decide(inp) := d if {
	d := data.toolgate.decision with input as inp
}

codes(inp) := {r.code | some r in decide(inp).reasons}

outcome(inp) := decide(inp).outcome
