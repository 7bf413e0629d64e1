#!/usr/bin/env bash
# Onboard a new agency end to end, as README.md walks through it:
# an operator onboards Tehran Municipality; its admin registers a system and gets an API key;
# the Civil Registration Organization's admin registers a service; the municipality requests
# a grant; the provider approves; the municipality makes its first inquiry.
#
# Run it against a development server started by `make run` (in another terminal):
#   bash docs/examples/onboarding.sh
# Environment: BASE (default http://127.0.0.1:8000), PANJEREH (default .venv/bin/panjereh).
# tests/e2e/test_onboarding_example.py runs this very file.
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8000}
PANJEREH=${PANJEREH:-.venv/bin/panjereh}
json() { curl -sS --fail-with-body -H 'Content-Type: application/json' "$@"; echo; }

# 1. Tokens for the demo operator and the civil registry's admin (accounts made by `make run`).
OPERATOR=$($PANJEREH user token operator)
CIVIL=$($PANJEREH user token civil-registry-admin)

# 2. The operator onboards the agency (its legal id is checked, its names normalized).
json -X POST "$BASE/api/v1/agencies" -H "Authorization: Bearer $OPERATOR" -d '{
  "reason": "onboarding Tehran Municipality",
  "agency": {"code": "tehran-municipality", "legal_id": "14009876545",
             "name_fa": "شهرداری تهران", "name_en": "Tehran Municipality",
             "kind": "municipality", "contact": {"email": "it@tehran-municipality.example"}}}'

# 3. The agency's own admin account (CLI; every change names its actor and reason).
$PANJEREH user create tehran-admin --role agency-admin --agency tehran-municipality \
  --password 'a long enough passphrase' --actor maryam --reason "Tehran's integration lead"
TEHRAN=$($PANJEREH user token tehran-admin)

# 4. The municipality registers its consuming system and gets its API key (shown once).
json -X POST "$BASE/api/v1/agencies/tehran-municipality/systems" -H "Authorization: Bearer $TEHRAN" \
  -d '{"reason": "building permits system", "code": "permits", "name": "Building permits", "roles": ["consumer"]}'
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
json -X POST "$BASE/api/v1/grants" -H "Authorization: Bearer $TEHRAN" -d '{
  "reason": "permit applicants must be alive",
  "consumer": "tehran-municipality/permits", "service": "civil-registry.alive.v1",
  "purposes": ["identity-verification"],
  "justification": "Building permits are issued only to living owners."}'
json -X POST "$BASE/api/v1/grants/tehran-municipality/permits/civil-registry.alive.v1/approve" \
  -H "Authorization: Bearer $CIVIL" -d '{"reason": "legal basis checked"}'

# 8. The first inquiry (every exchange worker sees the grant within a second).
sleep 1
curl -sS --fail-with-body -X POST "$BASE/exchange/v1/services/civil-registry.alive.v1" \
  -H "Authorization: ApiKey $KEY" -H 'X-Purpose: identity-verification' \
  -H 'Content-Type: application/json' -d '{"national_code": "3066557359"}'
echo
