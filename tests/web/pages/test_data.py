"""The Data page and background jobs through the real app on a demo workspace: an upload is
imported in a job (invalid rows quarantined with file, row, column and reason), the analyses
re-run in a job, roles on every action, and a job whose process died says so."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.pages import conftest as H  # noqa: N812 (importlib mode: by dotted path)

from streamwise.store.db import session_factory
from streamwise.store.models import Job
from streamwise.web.pages.jobs import job_view

HEADER = "customer_id,email,signup_date,country,first_name,last_name\n"


def _customers_csv(good: int, bad: dict[int, str]) -> bytes:
    """``good`` new customers; the rows numbered in ``bad`` (1-based data rows) get the broken
    value of the column named."""
    lines = [HEADER]
    for i in range(1, good + len(bad) + 1):
        email, signup = f"new.{i}@example.org", "2024-03-01"
        if bad.get(i) == "email":
            email = "not an address"
        if bad.get(i) == "signup_date":
            signup = "the day before yesterday"
        lines.append(f"C9{i:07d},{email},{signup},GB,New,Person{i}\n")
    return "".join(lines).encode()


def _wait(client: TestClient, job_id: int, seconds: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = client.get(f"/app/jobs/{job_id}").json()
        if not job["active"]:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still running after {seconds} s")


def _job_id(response: Any) -> int:
    location = response.headers["location"]
    assert "job%20" in location, location
    return int(location.split("job%20")[1].split("%29")[0])


def _engine(client: TestClient) -> Any:
    return client.app.state.engine  # type: ignore[attr-defined]


def test_an_upload_is_imported_in_the_background_and_bad_rows_are_quarantined(
    demo_client: TestClient,
) -> None:
    H.sign_in(demo_client, "marketing")
    token = H.csrf_of(demo_client, "/app/data")
    body = _customers_csv(8, {3: "email", 7: "signup_date"})
    response = demo_client.post(
        "/app/data/import",
        data={"csrf_token": token, "kind": "customers"},
        files={"file": ("new customers.csv", body, "text/csv")},
    )
    assert response.status_code == 303
    job = _wait(demo_client, _job_id(response))
    assert job["status"] == "done", job
    assert "10 rows read, 8 landed" in job["message"]
    assert "2 quarantined" in job["message"]
    page = demo_client.get("/app/data?kind=customers")
    assert page.status_code == 200
    text = page.text
    assert "new_customers.csv" in text  # the imports table and the quarantine name the file
    assert "not an address" in text  # the refused value
    assert "the day before yesterday" in text
    assert "<td>email</td>" in text
    assert "<td>signup_date</td>" in text
    ws = demo_client.app.state.workspace  # type: ignore[attr-defined]
    con = duckdb.connect(str(ws.analytics_path), read_only=True)
    try:
        landed = con.execute(
            "SELECT count(*) FROM customers WHERE customer_id LIKE 'C9%'"
        ).fetchall()[0][0]
        rows = con.execute(
            "SELECT row_number FROM _quarantine WHERE source LIKE '%new_customers.csv' "
            "ORDER BY row_number"
        ).fetchall()
    finally:
        con.close()
    assert landed == 8
    assert [r[0] for r in rows] == [3, 7]  # the data rows that were wrong, nothing lost


def test_a_file_with_only_a_header_fails_with_a_clear_outcome(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "admin")
    token = H.csrf_of(demo_client, "/app/data")
    response = demo_client.post(
        "/app/data/import",
        data={"csrf_token": token, "kind": "customers"},
        files={"file": ("empty.csv", HEADER.encode(), "text/csv")},
    )
    job = _wait(demo_client, _job_id(response))
    assert job["status"] == "failed"
    assert "empty.csv: has no data rows" in job["message"]


@pytest.mark.parametrize(
    ("kind", "name", "says"),
    [
        ("customers", "customers.xlsx", "cannot tell the file format"),
        ("spreadsheets", "customers.csv", "choose what the file holds"),
    ],
)
def test_uploads_that_cannot_be_imported_are_refused_at_once(
    demo_client: TestClient, kind: str, name: str, says: str
) -> None:
    H.sign_in(demo_client, "marketing")
    token = H.csrf_of(demo_client, "/app/data")
    response = demo_client.post(
        "/app/data/import",
        data={"csrf_token": token, "kind": kind},
        files={"file": (name, b"customer_id\nC1\n", "text/csv")},
    )
    assert says.replace(" ", "%20") in response.headers["location"]
    with session_factory(_engine(demo_client))() as session:
        assert session.scalars(select(Job)).all() == []


def test_product_re_runs_the_analyses_with_progress(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "product")
    page = demo_client.get("/app/data")
    assert "Re-run the analyses" in page.text
    assert 'action="/app/data/import"' not in page.text  # product does not import
    token = H.csrf_of(demo_client, "/app/data")
    response = demo_client.post("/app/data/analyse", data={"csrf_token": token})
    job_id = _job_id(response)
    again = demo_client.post("/app/data/analyse", data={"csrf_token": token})
    assert "running%20already" in again.headers["location"]  # one at a time
    job = _wait(demo_client, job_id)
    assert job["status"] == "done", job
    assert "re-ran" in job["message"]
    assert "customer lifetime value" in job["message"]


def test_sales_may_read_the_data_page_but_not_import_or_run(demo_client: TestClient) -> None:
    H.sign_in(demo_client, "sales")
    page = demo_client.get("/app/data")
    assert page.status_code == 200
    assert "Re-run the analyses" not in page.text
    token = H.csrf_of(demo_client, "/app/data")
    refused = demo_client.post(
        "/app/data/import",
        data={"csrf_token": token, "kind": "customers"},
        files={"file": ("c.csv", _customers_csv(1, {}), "text/csv")},
    )
    assert refused.status_code == 403
    assert demo_client.post("/app/data/analyse", data={"csrf_token": token}).status_code == 403
    with session_factory(_engine(demo_client))() as session:
        assert session.scalars(select(Job)).all() == []


def test_a_job_whose_process_died_is_reported_failed(demo_client: TestClient) -> None:
    engine = _engine(demo_client)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with session_factory(engine)() as session, session.begin():
        job = Job(kind="analyse", status="running", progress=0.4, message="RFM segments",
                  pid=gone.pid)  # fmt: skip
        session.add(job)
        session.flush()
        job_id = int(job.id)
    view = job_view(engine, job_id)
    assert view is not None
    assert view.status == "failed"
    assert f"logs/job-{job_id}.log" in view.message
    assert not view.active
