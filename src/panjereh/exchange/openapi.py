"""The exchange's OpenAPI 3.1 description, served at /exchange/v1/openapi.json.

It describes what docs/exchange-protocol.md says and the code does: every answer of an inquiry
is signed (except 405 and 413, whose request the exchange never read whole), refusals that may
pass carry Retry-After, and a provider's own 4xx refusal is passed on in reduced form.
tests/contract/test_schemathesis.py checks the running exchange against it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from panjereh import __version__
from panjereh.exchange.problems import ALL_PROBLEMS, ProblemType
from panjereh.registry.model import SERVICE_ID

_PROBLEM = "application/problem+json"
_ANY_PROBLEM = {"$ref": "#/components/schemas/Problem"}
_EXCHANGE_PROBLEM = {"$ref": "#/components/schemas/ExchangeProblem"}
_SIGNED = ("X-Exchange-Id", "Content-Digest", "Signature-Input", "Signature")
_UNSIGNED_STATUSES = frozenset({405, 413})
_RETRY_AFTER_REQUIRED = frozenset({429, 503})
_RETRY_AFTER_OPTIONAL = frozenset({409})  # only while the first use is still being answered
_SOMETIMES_UNSIGNED = frozenset({503})  # shed at admission, before the request was read


def _header(name: str, *, required: bool = True) -> dict[str, Any]:
    ref = {"$ref": f"#/components/headers/{name}"}
    if not required:
        return ref
    return {"$ref": f"#/components/headers/{name}-Required"}


def _headers(status: int) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if status not in _UNSIGNED_STATUSES:
        required = status not in _SOMETIMES_UNSIGNED
        headers |= {name: _header(name, required=required) for name in _SIGNED}
    elif status == 413:
        headers["X-Exchange-Id"] = _header("X-Exchange-Id")
    if status >= 400 and status != 405:
        headers["X-Error-Source"] = _header("X-Error-Source")
    if status in _RETRY_AFTER_REQUIRED:
        headers["Retry-After"] = _header("Retry-After")
    elif status in _RETRY_AFTER_OPTIONAL:
        headers["Retry-After"] = _header("Retry-After", required=False)
    if status == 405:
        headers["Allow"] = {"schema": {"type": "string"}, "required": True}
    return headers


def _inquiry_responses() -> dict[str, Any]:
    by_status: dict[int, list[ProblemType]] = defaultdict(list)
    for problem in ALL_PROBLEMS:
        by_status[problem.status].append(problem)
    responses: dict[str, Any] = {
        "200": {
            "description": "The provider's answer, projected to the grant's fields, signed.",
            "headers": _headers(200) | {"X-Replayed": _header("X-Replayed", required=False)},
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    }
    for status, kinds in sorted(by_status.items()):
        codes = ", ".join(kind.code for kind in kinds)
        # Any 4xx may also be a provider's own refusal, passed on (X-Error-Source: provider).
        schema = _ANY_PROBLEM if 400 <= status < 500 else _EXCHANGE_PROBLEM
        responses[str(status)] = {
            "description": f"{codes}."
            + (" Or the provider's own refusal." if status < 500 else ""),
            "headers": _headers(status),
            "content": {_PROBLEM: {"schema": schema}},
        }
    responses["4XX"] = {
        "description": "The provider's own refusal, passed on (X-Error-Source: provider).",
        "headers": _headers(400),
        "content": {_PROBLEM: {"schema": {"$ref": "#/components/schemas/ProviderProblem"}}},
    }
    return responses


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {_PROBLEM: {"schema": _EXCHANGE_PROBLEM}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_SERVICE_ID_PARAMETER = {
    "name": "service_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": SERVICE_ID.pattern},
    "example": "civil-registry.person.v1",
}


def _inquire() -> dict[str, Any]:
    return {
        "operationId": "inquire",
        "summary": "Make an inquiry to a provider's service",
        "security": [{"ApiKey": []}, {"HttpSignature": []}],
        "parameters": [
            {
                "name": "X-Purpose",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 120},
                "description": "The legal purpose of the inquiry (recorded); required by the "
                "grant check.",
            },
            {
                "name": "X-Request-Id",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "format": "uuid"},
                "description": "The caller's id of this inquiry: a retry with the same id gets "
                "the stored answer (X-Replayed: true). Required when signed.",
            },
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "responses": _inquiry_responses(),
    }


def _paths() -> dict[str, Any]:
    service_list = {
        "type": "object",
        "required": ["services"],
        "properties": {
            "services": {"type": "array", "items": {"$ref": "#/components/schemas/Service"}}
        },
    }
    return {
        "/exchange/v1/services/{service_id}": {
            "parameters": [_SERVICE_ID_PARAMETER],
            "post": _inquire(),
            "get": {
                "operationId": "getService",
                "summary": "One service's public description",
                "responses": {
                    "200": _json("The service.", {"$ref": "#/components/schemas/Service"}),
                    "404": _problem("No such service."),
                },
            },
        },
        "/exchange/v1/services": {
            "get": {
                "operationId": "listServices",
                "summary": "The directory of services on the exchange",
                "parameters": [
                    {
                        "name": "allowed",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": ["true", "false"]},
                        "description": "true: only the services the caller's system (API key) "
                        "holds a grant on.",
                    }
                ],
                "responses": {
                    "200": _json("Every active service.", service_list),
                    "401": _problem("allowed=true without a valid API key."),
                },
            }
        },
        "/exchange/v1/keys": {
            "get": {
                "operationId": "exchangeKeys",
                "summary": "The exchange's public signing keys (JWKS)",
                "responses": {
                    "200": _json(
                        "The active key and older ones still published.",
                        {"$ref": "#/components/schemas/Jwks"},
                    )
                },
            }
        },
    }


def _component_headers() -> dict[str, Any]:
    described = {
        "X-Exchange-Id": (
            "The exchange's id of this inquiry (its audit record).",
            {"type": "string", "format": "uuid"},
        ),
        "X-Error-Source": (
            "Who produced the error: exchange or provider.",
            {"type": "string", "enum": ["exchange", "provider"]},
        ),
        "Content-Digest": (
            "RFC 9530 digest of the answer's body.",
            {"type": "string", "pattern": "^sha-256=:[A-Za-z0-9+/]{43}=:$"},
        ),
        "Signature-Input": (
            'RFC 9421: sig=("@status" "content-digest" "x-exchange-id" "content-digest";req)'
            ';created=…;keyid=…;alg="ed25519" (docs/http-signatures.md).',
            {"type": "string", "pattern": "^sig=\\("},
        ),
        "Signature": (
            "RFC 9421: the exchange's Ed25519 signature, sig=:<base64>:.",
            {"type": "string", "pattern": "^sig=:[A-Za-z0-9+/]{86}==:$"},
        ),
        "Retry-After": ("Seconds to wait before retrying.", {"type": "integer", "minimum": 1}),
        "X-Replayed": (
            "true: the stored answer of an earlier inquiry with this X-Request-Id.",
            {"type": "string", "enum": ["true"]},
        ),
    }
    headers: dict[str, Any] = {}
    for name, (description, schema) in described.items():
        headers[name] = {"description": description, "schema": schema}
        headers[f"{name}-Required"] = {
            "description": description,
            "schema": schema,
            "required": True,
        }
    return headers


_PROBLEM_FIELDS: dict[str, Any] = {
    "type": {"type": "string", "format": "uri-reference"},
    "title": {"type": "string"},
    "status": {"type": "integer", "minimum": 400, "maximum": 599},
    "detail": {"type": "string"},
    "code": {"type": "string"},
}


def _schemas() -> dict[str, Any]:
    return {
        "Problem": {
            "description": "An error: the exchange's own, or a provider's refusal passed on.",
            "anyOf": [_EXCHANGE_PROBLEM, {"$ref": "#/components/schemas/ProviderProblem"}],
        },
        "ExchangeProblem": {
            "type": "object",
            "description": "RFC 9457 problem details made by the exchange; branch on code.",
            "required": ["type", "title", "status", "code"],
            "properties": _PROBLEM_FIELDS
            | {
                "code": {"type": "string", "enum": [p.code for p in ALL_PROBLEMS]},
                "instance": {"type": "string"},
                "exchange_id": {"type": "string", "format": "uuid"},
                "reason": {
                    "type": "string",
                    "description": "Why a request signature was refused (401).",
                },
                "field": {"type": "string", "description": "The request field at fault (400)."},
            },
        },
        "ProviderProblem": {
            "type": "object",
            "description": "A provider's 4xx answer reduced to these fields (detail ≤ 300).",
            "required": ["status"],
            "additionalProperties": False,
            "properties": _PROBLEM_FIELDS | {"detail": {"type": "string", "maxLength": 300}},
        },
        "Service": {
            "type": "object",
            "required": ["id", "agency", "name_fa", "name_en", "status"],
            "properties": {
                "id": {"type": "string"},
                "agency": {"type": "string"},
                "name_fa": {"type": "string"},
                "name_en": {"type": "string"},
                "description_fa": {"type": "string"},
                "description_en": {"type": "string"},
                "subject_kind": {"type": "string", "enum": ["national_code", "legal_id", "none"]},
                "status": {"type": "string"},
            },
        },
        "Jwks": {
            "type": "object",
            "required": ["keys"],
            "properties": {
                "keys": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["kty", "crv", "kid", "x", "status"],
                        "properties": {
                            "kty": {"const": "OKP"},
                            "crv": {"const": "Ed25519"},
                            "kid": {"type": "string"},
                            "x": {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"},
                            "alg": {"const": "EdDSA"},
                            "use": {"const": "sig"},
                            "status": {"enum": ["active", "retired"]},
                        },
                    },
                }
            },
        },
    }


def exchange_openapi() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Panjereh exchange",
            "version": __version__,
            "description": "Inquiries between agency systems. See docs/exchange-protocol.md.",
        },
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "ApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'ApiKey <key>': the calling system's key.",
                },
                "HttpSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Signature",
                    "description": "An RFC 9421 signature with the system's registered Ed25519 "
                    "key, with Signature-Input and Content-Digest (docs/http-signatures.md).",
                },
            },
            "headers": _component_headers(),
            "schemas": _schemas(),
        },
    }
