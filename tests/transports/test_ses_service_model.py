"""The SES request checked against AWS's own description of the API: botocore's bundled
``sesv2`` service model (operation ``SendEmail``), not against what our code expects."""

from __future__ import annotations

import base64
import json

import botocore.session
from botocore.validate import ParamValidator

from mailconsole.transports.ses import SesTransport
from tests.transports.esp_cases import AKID, ENVELOPE, SECRET, make_message


def _decode_blobs(value: object, shape: object) -> object:
    """JSON carries blobs as base64; the model's validator wants the bytes."""
    type_name = getattr(shape, "type_name", "")
    if type_name == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    if type_name == "structure" and isinstance(value, dict):
        members = getattr(shape, "members", {})
        return {k: _decode_blobs(v, members[k]) if k in members else v for k, v in value.items()}
    if type_name == "list" and isinstance(value, list):
        return [_decode_blobs(v, getattr(shape, "member", None)) for v in value]
    return value


async def test_ses_send_request_matches_the_sesv2_service_model() -> None:
    operation = botocore.session.get_session().get_service_model("sesv2").operation_model("SendEmail")
    transport = SesTransport(access_key_id=AKID, secret_access_key=SECRET, region="eu-west-1",
                             configuration_set="feedback")
    request = transport.build_send_request(ENVELOPE, make_message())
    await transport.close()
    assert request.method == operation.http["method"]
    assert request.url.path == operation.http["requestUri"]
    params = _decode_blobs(json.loads(request.content), operation.input_shape)
    report = ParamValidator().validate(params, operation.input_shape)
    assert not report.has_errors(), report.generate_report()
    assert isinstance(params, dict)
    assert params["Content"]["Raw"]["Data"] == make_message()  # the raw MIME, untouched


def test_the_model_check_would_catch_a_misnamed_field() -> None:
    operation = botocore.session.get_session().get_service_model("sesv2").operation_model("SendEmail")
    report = ParamValidator().validate({"Content": {"RawMessage": {"Data": b"x"}}}, operation.input_shape)
    assert report.has_errors() and "RawMessage" in report.generate_report()
