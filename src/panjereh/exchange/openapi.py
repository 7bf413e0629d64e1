"""The exchange's OpenAPI 3.1 description, served at /exchange/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from panjereh import __version__
from panjereh.exchange.problems import ALL_PROBLEMS
from panjereh.registry.model import SERVICE_ID

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": {"X-Error-Source": {"$ref": "#/components/headers/X-Error-Source"}},
        "content": {"application/problem+json": {"schema": _PROBLEM_REF}},
    }


def exchange_openapi() -> dict[str, Any]:
    inquiry_responses: dict[str, Any] = {
        "200": {
            "description": "The provider's answer, passed on unchanged.",
            "headers": {"X-Exchange-Id": {"$ref": "#/components/headers/X-Exchange-Id"}},
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "404": _problem_response(
            "unknown-service, or the provider's own not-found answer (X-Error-Source: provider)."
        ),
    }
    for problem in ALL_PROBLEMS:
        key = str(problem.status)
        if key not in inquiry_responses:
            inquiry_responses[key] = _problem_response(problem.title)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Panjereh exchange",
            "version": __version__,
            "description": "Inquiries between agency systems. See docs/exchange-protocol.md.",
        },
        "paths": {
            "/exchange/v1/services/{service_id}": {
                "parameters": [
                    {
                        "name": "service_id",
                        "in": "path",
                        "required": True,
                        "schema": {
                            "type": "string",
                            "pattern": SERVICE_ID.pattern,
                        },
                        "example": "civil-registry.person.v1",
                    }
                ],
                "post": {
                    "operationId": "inquire",
                    "summary": "Make an inquiry to a provider's service",
                    "security": [{"ApiKey": []}],
                    "parameters": [
                        {
                            "name": "X-Purpose",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 120},
                            "description": "The legal purpose of the inquiry (recorded).",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": inquiry_responses,
                },
                "get": {
                    "operationId": "getService",
                    "summary": "One service's public description",
                    "responses": {
                        "200": {
                            "description": "The service.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Service"}
                                }
                            },
                        },
                        "404": _problem_response("No such service."),
                    },
                },
            },
            "/exchange/v1/services": {
                "get": {
                    "operationId": "listServices",
                    "summary": "The directory of services on the exchange",
                    "responses": {
                        "200": {
                            "description": "Every active service.",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "services": {
                                                "type": "array",
                                                "items": {"$ref": "#/components/schemas/Service"},
                                            }
                                        },
                                    }
                                }
                            },
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "ApiKey": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "'ApiKey <key>': the calling system's key.",
                }
            },
            "headers": {
                "X-Exchange-Id": {
                    "description": "The exchange's id of this inquiry (its audit record).",
                    "schema": {"type": "string", "format": "uuid"},
                },
                "X-Error-Source": {
                    "description": "Who produced the error: exchange or provider.",
                    "schema": {"type": "string", "enum": ["exchange", "provider"]},
                },
            },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "description": "RFC 9457 problem details.",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string", "format": "uri-reference"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                        "code": {"type": "string", "enum": [p.code for p in ALL_PROBLEMS]},
                        "exchange_id": {"type": "string"},
                    },
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
                        "subject_kind": {
                            "type": "string",
                            "enum": ["national_code", "legal_id", "none"],
                        },
                        "status": {"type": "string"},
                    },
                },
            },
        },
    }
