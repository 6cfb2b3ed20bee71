#!/usr/bin/env bash
# The compose stack's demo DAO, set up once as scripts/dev.sh does it (the image `demo` of
# docker/Dockerfile runs this; compose.yml starts the collective server after it succeeds):
#   1. the collective's key set "chat" in $DATACOOP_COLLECTIVE_DIR, sealed with
#      $DATACOOP_COLLECTIVE_KEY_FILE (made beside it: a demo convenience), with the rules
#      $DEMO_RULES (default: collective/examples/chat-rules.json);
#   2. once the chain at $DATACOOP_URL answers, the DAO "Chat exports" registered by //Alice
#      with those keys and the endpoint $DEMO_ENDPOINT (the collective server's URL as every
#      validator reaches it), unless the chain has a DAO with these keys already;
#   3. the key set bound to that DAO.
# Each step already done is skipped, so it is safe to run again (`docker compose up` does).
set -euo pipefail
rules=${DEMO_RULES:-/usr/local/share/datacoop/chat-rules.json}
endpoint=${DEMO_ENDPOINT:?DEMO_ENDPOINT: the collective server URL validators call}
: "${DATACOOP_URL:?DATACOOP_URL: the node RPC endpoint}"
: "${DATACOOP_COLLECTIVE_DIR:?}" "${DATACOOP_COLLECTIVE_KEY_FILE:?}"
say() { printf 'demo-dao: %s\n' "$*" >&2; }

if [ ! -e "$DATACOOP_COLLECTIVE_DIR/daos/chat/secrets.json" ]; then
	datacoop-collective init --name chat --rules "$rules" > /dev/null
	say "made the key set \"chat\" in $DATACOOP_COLLECTIVE_DIR"
fi
keys=$(datacoop-collective show --json)
field() { jq -r --arg f "$1" '.[] | select(.name == "chat") | .[$f]' <<< "$keys"; }
bound=$(field dao)
if [ "$bound" != null ]; then
	say "the key set \"chat\" is bound to DAO #$bound already"
	exit 0
fi

say "waiting for the chain at $DATACOOP_URL"
for _ in $(seq 1 150); do
	datacoop dao list --json > /dev/null 2>&1 && break
	sleep 2
done
# The wallet's own error if the chain still does not answer.
daos=$(datacoop dao list --json)
# By the signer too: an encryption key is not held to one DAO (the signer is).
dao=$(jq -r --arg key "$(field encryption_key)" --arg signer "$(field attestation_signer)" \
	'[.[] | select(.collective.encryption_key == $key and .collective.attestation_signer == $signer)][0].id // empty' <<< "$daos")
if [ -z "$dao" ]; then
	# The key set's consent to serve the DAO //Alice is about to create (the chain's next id).
	alice=5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY  # //Alice, who creates it: the proof holds for her creation only
	proof=$(datacoop-collective --json prove --name chat --next --admin "$alice" --url "$DATACOOP_URL" | jq -er .key_proof)
	dao=$(datacoop --json --account //Alice dao create --name "Chat exports" \
		--token-name "Chat" --token-symbol CHAT \
		--collective-key "$(field encryption_key)" \
		--signer "$(field attestation_signer)" \
		--measurement "$(field measurement)" \
		--endpoint "$endpoint" --key-proof "$proof" --min-size 100 --max-size 100000000 \
		--min-score 100000 | jq -er .id)
	say "registered the demo DAO #$dao \"Chat exports\" (endpoint $endpoint) as //Alice"
fi
datacoop-collective bind --name chat --dao "$dao" > /dev/null
say "bound the key set \"chat\" to DAO #$dao: the collective server can start"
