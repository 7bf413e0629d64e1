#!/usr/bin/env bash
# Onboard a new agency end to end, as README.md walks through it:
# an operator onboards Tehran Municipality; its admin registers a system and gets an API key;
# the Civil Registration Organization's admin registers a service; the municipality requests
# a grant; the provider approves; the municipality makes its first inquiry.
#
# Run it against a development server started by `make run` (in another terminal):
#   bash docs/examples/onboarding.sh
#   BASE=http://127.0.0.1:8101 bash docs/examples/onboarding.sh     # a server on another port
# Environment: BASE (default http://127.0.0.1:8000), PANJEREH (default .venv/bin/panjereh).
# It can be run again: a step whose result is already there says so and is skipped (each run
# issues the system one more API key, for the inquiry at the end).
# tests/e2e/test_onboarding_example.py runs this very file, twice.
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8000}
PANJEREH=${PANJEREH:-.venv/bin/panjereh}
json() { curl -sS --fail-with-body -H 'Content-Type: application/json' "$@"; echo; }
# there TOKEN PATH: does GET $BASE$PATH answer 200 to this token?
there() { [ "$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "$BASE$2")" = 200 ]; }
skip() { echo "already there, skipped: $*"; }

# 1. Tokens for the demo operator and the civil registry's admin (accounts made by `make run`).
OPERATOR=$($PANJEREH user token operator)
CIVIL=$($PANJEREH user token civil-registry-admin)

# 2. The operator onboards the agency (its legal id is checked, its names normalized).
if there "$OPERATOR" /api/v1/agencies/tehran-municipality; then skip "agency tehran-municipality"; else
json -X POST "$BASE/api/v1/agencies" -H "Authorization: Bearer $OPERATOR" -d '{
  "reason": "onboarding Tehran Municipality",
  "agency": {"code": "tehran-municipality", "legal_id": "14009876545",
             "name_fa": "شهرداری تهران", "name_en": "Tehran Municipality",
             "kind": "municipality", "contact": {"email": "it@tehran-municipality.example"}}}'
fi

# 3. The agency's own admin account (CLI; every change names its actor and reason).
if TEHRAN=$($PANJEREH user token tehran-admin 2>/dev/null); then skip "account tehran-admin"; else
$PANJEREH user create tehran-admin --role agency-admin --agency tehran-municipality \
  --password 'a long enough passphrase' --actor maryam --reason "Tehran's integration lead"
TEHRAN=$($PANJEREH user token tehran-admin)
fi

# 4. The municipality registers its consuming system and gets its API key (shown once).
if there "$TEHRAN" /api/v1/systems/tehran-municipality/permits; then skip "system permits"; else
json -X POST "$BASE/api/v1/agencies/tehran-municipality/systems" -H "Authorization: Bearer $TEHRAN" \
  -d '{"reason": "building permits system", "code": "permits", "name": "Building permits", "roles": ["consumer"]}'
fi
KEY=$(json -X POST "$BASE/api/v1/systems/tehran-municipality/permits/api-keys" \
  -H "Authorization: Bearer $TEHRAN" -d '{"reason": "first key", "label": "production"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["api_key"])')

# 5. The provider registers a service (request schema, subject, endpoint checked against SSRF).
json -X PUT "$BASE/api/v1/services/civil-registry.alive.v1" -H "Authorization: Bearer $CIVIL" -d '{
  "reason": "a lighter inquiry for municipalities",
  "service": {"provider": "civil-registry/population-registry",
              "name_fa": "استعلام وضعیت حیات", "name_en": "Alive status inquiry",
              "endpoint_url": "'"$BASE"'/simulator/civil-registry/life-status",
              "request_schema": {"type": "object", "required": ["national_code"],
                                 "properties": {"national_code": {"type": "string"}},
                                 "additionalProperties": false},
              "response_schema": {"type": "object"},
              "subject": {"pointer": "/national_code", "kind": "national_code"},
              "personal_data": "personal", "timeout_ms": 3000}}' > /dev/null

# 6. The municipality requests a grant; 7. the provider approves it.
GRANT=/api/v1/grants/tehran-municipality/permits/civil-registry.alive.v1
if there "$TEHRAN" "$GRANT"; then skip "grant request"; else
json -X POST "$BASE/api/v1/grants" -H "Authorization: Bearer $TEHRAN" -d '{
  "reason": "permit applicants must be alive",
  "consumer": "tehran-municipality/permits", "service": "civil-registry.alive.v1",
  "purposes": ["identity-verification"],
  "justification": "Building permits are issued only to living owners."}'
fi
if curl -sS -H "Authorization: Bearer $CIVIL" "$BASE$GRANT" | grep -q '"status": *"pending"'; then
json -X POST "$BASE$GRANT/approve" -H "Authorization: Bearer $CIVIL" -d '{"reason": "legal basis checked"}'
else
  skip "approval (the grant is no longer pending)"
fi

# 8. The first inquiry (every exchange worker sees the grant within a second).
sleep 1
curl -sS --fail-with-body -X POST "$BASE/exchange/v1/services/civil-registry.alive.v1" \
  -H "Authorization: ApiKey $KEY" -H 'X-Purpose: identity-verification' \
  -H 'Content-Type: application/json' -d '{"national_code": "3066557359"}'
echo
