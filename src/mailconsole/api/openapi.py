"""The OpenAPI 3.1 document served at ``/openapi.json`` and checked in as ``docs/openapi.json``.

The request body's schema (``SendRequest``, ``Attachment``) is generated from the pydantic
models in ``api/schemas.py`` that validate every request, so what is documented is what is
accepted. The operations and response shapes are written here, with descriptions that say
what a person needs (which policy refuses what, how the raw MIME envelope is chosen);
``tests/api/test_openapi.py`` checks every route is documented and real answers validate.
Regenerate the file with ``python -m mailconsole.api.app > docs/openapi.json`` (the document
the app serves, webhook routes included).
"""

from __future__ import annotations

import copy
from typing import Any

from mailconsole.api.schemas import request_schemas
from mailconsole.domain.policy import MAX_MESSAGE_BYTES

_ERROR_CODES = (
    "invalid_api_key, missing_scope, invalid_json, invalid_field, invalid_request, "
    "unsupported_media_type, invalid_stream, stream_not_allowed, sandbox_recipient_not_allowed, "
    "sandbox_daily_cap, message_too_large, idempotency_key_reused, idempotency_in_progress, "
    "temporary_failure, not_found"
)


_HTML: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}
_TOKEN: list[dict[str, Any]] = [
    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"},
     "description": "The token from the List-Unsubscribe header of a broadcast message."}
]


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }



_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string", "description": f"One of: {_ERROR_CODES}."},
                    "message": {"type": "string", "description": "A sentence for people."},
                },
            }
        },
    },
    "SendAccepted": {
        "type": "object",
        "required": ["ids", "messages"],
        "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}},
            "messages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "recipient"],
                    "properties": {"id": {"type": "integer"}, "recipient": {"type": "string"}},
                },
            },
        },
    },
    "MessageStatus": {
        "type": "object",
        "required": ["id", "state", "attempts", "last_reply", "recipient", "stream"],
        "properties": {
            "id": {"type": "integer"},
            "state": {
                "type": "string",
                "description": "queued, sending, deferred, held, sent, failed, cancelled or suppressed",
            },
            "state_reason": {"type": "string"},
            "stream": {"type": "string"},
            "from": {"type": "string"},
            "recipient": {"type": "string"},
            "subject": {"type": "string"},
            "attempts": {"type": "integer", "minimum": 0},
            "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
            "last_reply": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["code", "text"],
                        "properties": {
                            "code": {"type": "string"},
                            "text": {"type": "string"},
                            "at": {"type": ["string", "null"], "format": "date-time"},
                        },
                    },
                ]
            },
            "provider_message_id": {"type": ["string", "null"]},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Health": {
        "type": "object",
        "required": ["status", "checks"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "unavailable"]},
            "checks": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["ok", "detail"],
                    "properties": {"ok": {"type": "boolean"}, "detail": {"type": "string"}},
                },
            },
        },
    },
}

_SEND_DESCRIPTION = f"""Queue one message for every recipient. The answer is 202 only after
the messages are committed to the queue. The same policy as the SMTP relay decides, with the
same words: a stream outside the key's allowed streams, sandbox limits and size (over
{MAX_MESSAGE_BYTES} bytes, refused without reading more than that) are refused alike.

Send either JSON (`application/json`, see SendRequest) or a complete message
(`message/rfc822`). For a raw message the envelope sender is the `from` query parameter, else
the address in the From header; the recipients are the `to` query parameters (repeatable),
else every address in To, Cc and Bcc. Bcc header fields are removed before the message is
stored. The stream and tracking are chosen with the `X-Mailconsole-Stream` and
`X-Mailconsole-Tracking-Enabled` header fields of the message, as on the relay.

With an `Idempotency-Key` header a retry returns the first answer (with
`Idempotency-Replayed: true`) and enqueues nothing again; the same key with a different body
is refused with 422 idempotency_key_reused."""

_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]

_PATHS: dict[str, Any] = {
    "/v1/emails": {
        "post": {
            "operationId": "sendEmail",
            "summary": "Send an email",
            "description": _SEND_DESCRIPTION,
            "security": _BEARER,
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                },
                {
                    "name": "from",
                    "in": "query",
                    "required": False,
                    "description": "message/rfc822 only: the envelope sender.",
                    "schema": {"type": "string"},
                },
                {
                    "name": "to",
                    "in": "query",
                    "required": False,
                    "description": "message/rfc822 only: envelope recipients (repeat the parameter).",
                    "schema": {"type": "array", "items": {"type": "string"}},
                    "style": "form",
                    "explode": True,
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SendRequest"}},
                    "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            "responses": {
                "202": {
                    "description": "Queued: the messages are on disk.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/SendAccepted"}}
                    },
                },
                "400": _error("Malformed JSON (invalid_json) or a bad field (invalid_field, names the field)."),
                "401": _error("Missing, unknown or revoked API key (invalid_api_key)."),
                "403": _error(
                    "missing_scope, stream_not_allowed, sandbox_recipient_not_allowed or sandbox_daily_cap."
                ),
                "409": _error("idempotency_in_progress: the first request with this key is still running."),
                "413": _error("message_too_large."),
                "415": _error("unsupported_media_type."),
                "422": _error("invalid_stream or idempotency_key_reused."),
                "503": _error(
                    "temporary_failure: the message could not be stored (nothing was queued); retry "
                    "after Retry-After seconds with the same Idempotency-Key."
                ),
            },
        }
    },
    "/v1/emails/{id}": {
        "get": {
            "operationId": "getEmail",
            "summary": "A message's state, attempts and last reply",
            "description": "Only messages of the key's own account; any other id is 404.",
            "security": _BEARER,
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": {
                    "description": "The message.",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/MessageStatus"}}
                    },
                },
                "401": _error("Missing, unknown or revoked API key."),
                "404": _error("No such message in this account (not_found)."),
            },
        }
    },
    "/healthz": {
        "get": {
            "operationId": "health",
            "summary": "Database reachable and an engine running",
            "description": "No authentication. 503 names the failing check.",
            "security": [],
            "responses": {
                "200": {
                    "description": "Healthy.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                },
                "503": {
                    "description": "A check failed.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}},
                },
            },
        }
    },
    "/metrics": {
        "get": {
            "operationId": "metrics",
            "summary": "Prometheus metrics",
            "description": "No authentication (bind to loopback or a monitoring network). "
            "Queue depth by state, attempts per server and outcome in the last hour, cap usage, "
            "circuit-breaker state, sends, relay sessions and rejections, webhook events.",
            "security": [],
            "responses": {
                "200": {
                    "description": "Prometheus text format 0.0.4.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/unsubscribe/{token}": {
        "get": {
            "operationId": "unsubscribe_page",
            "parameters": _TOKEN,
            "summary": "A page with an Unsubscribe button (a GET never unsubscribes)",
            "security": [],
            "responses": {
                "200": {"description": "The confirmation page.", "content": _HTML},
                "404": {"description": "Not a valid link.", "content": _HTML},
            },
        },
        "post": {
            "operationId": "unsubscribe_one_click",
            "parameters": _TOKEN,
            "summary": "RFC 8058 one-click unsubscribe from broadcast mail",
            "security": [],
            "requestBody": {"required": False, "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                "multipart/form-data": {"schema": {"type": "object"}},
            }},
            "responses": {
                "200": {"description": "Unsubscribed (or already was).", "content": _HTML},
                "404": {"description": "Not a valid link.", "content": _HTML},
            },
        },
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}


def webhook_operation(path: str, method: str) -> dict[str, Any]:
    """A generic entry for a mounted ESP webhook route (its body is the provider's format)."""
    return {
        "operationId": "webhook_" + path.strip("/").replace("/", "_").replace("{", "").replace("}", "")
        + "_" + method.lower(),
        "summary": f"ESP event webhook {path}",
        "description": "Receives the provider's own event format; see the feedback documentation.",
        "security": [],
        "requestBody": {"content": {"*/*": {"schema": {}}}},
        "responses": {
            "200": {"description": "Event accepted or recognised as a duplicate."},
            "400": {"description": "The body is not a recognisable event."},
            "401": {"description": "Signature or credentials do not match."},
            "403": {"description": "Signature or credentials do not match."},
            "404": {"description": "Not found."},
            "405": {"description": "Method not allowed."},
            "413": {"description": "The body is too large."},
            "415": {"description": "Unsupported media type."},
            "422": {"description": "Unprocessable event."},
            "502": {"description": "A provider round-trip (e.g. SNS subscription confirmation) failed."},
        },
    }


def build_document(extra_paths: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    paths = copy.deepcopy(_PATHS)
    for path, ops in (extra_paths or {}).items():
        paths.setdefault(path, {}).update(ops)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mailconsole HTTP API",
            "version": "1.0.0",
            "description": "Send mail through mailconsole's queue, follow a message, "
            "and monitor the engine. Errors are {\"error\": {\"code\", \"message\"}}.",
        },
        "paths": paths,
        "components": {
            "schemas": {**copy.deepcopy(_SCHEMAS), **request_schemas()},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key made with `mailconsole keys create`.",
                }
            },
        },
    }
