"""Schemathesis fuzzes every operation of the whole app's generated OpenAPI document with an
admin key: no answer may be a 5xx, and every answer must be one the document declares (status
code, content type, body schema, headers)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import APIOperation, GenerationMode
from schemathesis.python.asgi import shutdown_lifespans

from streamwise.web.app import create_app
from streamwise.web.auth import create_key
from streamwise.workspace import Workspace

pytestmark = pytest.mark.slow  # about 35 s for both modes

#: Examples per operation and generation mode (positive and negative): the whole app in well
#: under a minute.
EXAMPLES = 15

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
]


@pytest.fixture(scope="module")
def served(
    demo_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FastAPI, str]]:
    """The app over a copy of the demo workspace, and an admin key without a tight rate limit.
    Schemathesis runs the app's lifespan itself; it is shut down after the module."""
    folder = tmp_path_factory.mktemp("fuzz") / "ws"
    shutil.copytree(demo_dir, folder, ignore=shutil.ignore_patterns("sample", "*.html", ".locks"))
    ws = Workspace.open(folder)
    _, key = create_key(ws.operational(), "fuzz", "admin", rate_limit=1e6)
    yield create_app(ws), key
    shutdown_lifespans()
    ws.close()


@pytest.fixture(scope="module")
def api_schema(served: tuple[FastAPI, str]) -> schemathesis.BaseSchema:
    """The app's OpenAPI document, loaded by Schemathesis."""
    return schemathesis.openapi.from_asgi("/openapi.json", served[0])


def _fuzz(operation: APIOperation, mode: GenerationMode, key: str) -> str | None:
    """Run ``EXAMPLES`` cases of one operation; the first failure as text, or None."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],  # report the first failure unshrunk
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def run(case: schemathesis.Case) -> None:
        response = case.call(headers={"Authorization": f"Bearer {key}"})
        case.validate_response(response, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:  # nothing to negate (e.g. a free-form string path parameter)
        return None
    except Exception as exc:  # a FailureGroup naming the check, the request and the answer
        return f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}"
    return None


# Schemathesis's own pytest integration (``schema.parametrize()`` over a lazily loaded schema)
# does not run under pytest 9 (it sets a node attribute pytest no longer has), so the
# operations are driven with Hypothesis directly, one test per generation mode.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(
    api_schema: schemathesis.BaseSchema, served: tuple[FastAPI, str], mode: GenerationMode
) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    failures = [f for op in operations if (f := _fuzz(op, mode, served[1])) is not None]
    assert not failures, "\n\n".join(failures)
