"""The OpenAPI document covers every route, and real answers validate against it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from starlette.applications import Starlette
from starlette.routing import Mount, Route

from mailconsole.api.errors import ApiError
from mailconsole.api.schemas import KNOWN_FIELDS, parse_send_request
from mailconsole.runtime import Runtime
from mailconsole.store.models import EngineHeartbeat
from tests.api.conftest import Keys
from tests.api.support import MINIMAL, bearer

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def _app_operations(app: Starlette) -> set[tuple[str, str]]:
    ops: set[tuple[str, str]] = set()
    for route in app.routes:
        children = route.routes if isinstance(route, Mount) else [route]
        prefix = route.path if isinstance(route, Mount) else ""
        for child in children:
            assert isinstance(child, Route)
            for method in (child.methods or set()) - {"HEAD"}:
                ops.add((prefix + child.path, method.lower()))
    return ops


async def test_every_route_of_the_app_is_documented(client: httpx.AsyncClient, app: Starlette) -> None:
    served = (await client.get("/openapi.json")).json()
    documented = {(path, method) for path, item in served["paths"].items() for method in item}
    assert _app_operations(app) <= documented
    assert documented <= _app_operations(app)  # and nothing documented that does not exist
    assert served["openapi"] == "3.1.0"


async def test_served_openapi_equals_the_checked_in_file(client: httpx.AsyncClient) -> None:
    # Refresh with: python -m mailconsole.api.app > docs/openapi.json
    served = await client.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(DOCS.read_text())


async def test_the_documented_request_is_the_model_that_validates_requests(client: httpx.AsyncClient) -> None:
    """One source: the served SendRequest schema is generated from ``SendRequestBody``, whose
    validators are what ``parse_send_request`` runs; required fields and names agree."""
    documented = (await client.get("/openapi.json")).json()["components"]["schemas"]
    request = documented["SendRequest"]
    assert set(request["properties"]) == set(KNOWN_FIELDS)
    assert request["required"] == ["from", "to"]
    assert request["additionalProperties"] is False
    assert request["properties"]["attachments"]["anyOf"][0]["items"] == {"$ref": "#/components/schemas/Attachment"}
    assert documented["Attachment"]["required"] == ["filename", "content"]
    with pytest.raises(ApiError, match=r"^to: is required$"):
        parse_send_request({"from": "a@example.com", "text": "x"})


class Validator:
    """Validates an httpx response against the operation's documented response."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = DRAFT202012.create_resource(document)
        self.registry: Registry[Any] = Registry().with_resource("urn:openapi", resource)

    def check(self, path: str, method: str, response: httpx.Response) -> None:
        op = self.document["paths"][path][method]
        status = str(response.status_code)
        assert status in op["responses"], f"{method.upper()} {path} answered undocumented {status}"
        content = op["responses"][status].get("content", {})
        media = response.headers.get("content-type", "").split(";")[0]
        assert media in content, f"{method.upper()} {path} {status}: undocumented type {media}"
        if media == "application/json":
            schema = {"$ref": "urn:openapi#/" + "/".join(["paths", path.replace("/", "~1"), method,
                                                          "responses", status, "content",
                                                          "application~1json", "schema"])}
            jsonschema.Draft202012Validator(schema, registry=self.registry).validate(response.json())


async def test_real_answers_match_the_documented_responses(
    client: httpx.AsyncClient, runtime: Runtime, keys: Keys
) -> None:
    validator = Validator((await client.get("/openapi.json")).json())
    auth = bearer(keys.send)
    sent = await client.post("/v1/emails", json=MINIMAL, headers=auth)
    mid = sent.json()["ids"][0]
    calls = [
        ("/v1/emails", "post", sent),
        ("/v1/emails", "post", await client.post("/v1/emails", json=MINIMAL)),
        ("/v1/emails", "post", await client.post("/v1/emails", content=b"{", headers={
            **auth, "Content-Type": "application/json"})),
        ("/v1/emails", "post", await client.post("/v1/emails", json=MINIMAL, headers=bearer(keys.no_scope))),
        ("/v1/emails", "post", await client.post("/v1/emails", json={**MINIMAL, "stream": "x"}, headers=auth)),
        ("/v1/emails", "post", await client.post("/v1/emails", content=b"x", headers={
            **auth, "Content-Type": "text/plain"})),
        ("/v1/emails", "post", await client.post("/v1/emails", content=b"x", headers={
            **auth, "Content-Type": "message/rfc822", "Content-Length": str(10**9)})),
        ("/v1/emails/{id}", "get", await client.get(f"/v1/emails/{mid}", headers=auth)),
        ("/v1/emails/{id}", "get", await client.get(f"/v1/emails/{mid}")),
        ("/v1/emails/{id}", "get", await client.get("/v1/emails/999999", headers=auth)),
        ("/healthz", "get", await client.get("/healthz")),
        ("/metrics", "get", await client.get("/metrics")),
        ("/openapi.json", "get", await client.get("/openapi.json")),
    ]
    async with runtime.sessions.begin() as session:
        now = runtime.clock.now()
        session.add(EngineHeartbeat(owner="e", started_at=now, seen_at=now, state="running"))
    calls.append(("/healthz", "get", await client.get("/healthz")))
    statuses = {(path, r.status_code) for path, _m, r in calls}
    assert statuses >= {("/v1/emails", s) for s in (202, 400, 401, 403, 413, 415, 422)}
    for path, method, response in calls:
        validator.check(path, method, response)
    # The validator is not vacuous: a body of the wrong shape is refused.
    wrong = httpx.Response(404, json={"error": "not_found"})
    with pytest.raises(jsonschema.ValidationError):
        validator.check("/v1/emails/{id}", "get", wrong)


async def test_feedback_webhook_routes_are_mounted_under_webhooks(client: httpx.AsyncClient) -> None:
    served = (await client.get("/openapi.json")).json()
    assert {"/webhooks/ses", "/webhooks/sendgrid", "/webhooks/mailgun", "/webhooks/postmark"} <= set(served["paths"])
    resp = await client.post("/webhooks/postmark", content=b"{}")
    assert resp.status_code in (401, 403)  # the feedback area's handler refused it: not a 404
    assert "error" in resp.json()
