"""The LangGraph server with its domain data on PostgreSQL: a refund that needs a manager is filed,
approved in the console and paid once, all in the PostgreSQL database (`SUPPORT_DATABASE_URL`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live_server import LiveServer
from tests.pg_server import PgServer
from tests.test_server_api import BIG_SEAT_PACK, pause_for_approval
from tools.refunds import list_refunds


@pytest.fixture(scope="module")
def pg_live_server(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = pg_server.create_database("server_domain")
    server = LiveServer(tmp_path_factory.mktemp("server-data"), database_url=url)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.db.close()
        pg_server.drop_database("server_domain")


def test_an_approved_refund_is_paid_once_in_postgres(pg_live_server: LiveServer) -> None:
    server = pg_live_server
    _client, _thread_id, approval_id = pause_for_approval(server, "cust_003", BIG_SEAT_PACK)
    assert list_refunds(server.db, order_id="ord_301") == []
    with server.http() as http:
        answer = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={"note": "Seat pack unused"})
        again = http.post(f"/approvals/api/approvals/{approval_id}/approve", json={})
    assert answer.status_code == 200, answer.text
    assert answer.json()["resumed"] is True and again.status_code == 409
    (refund,) = list_refunds(server.db, order_id="ord_301")
    assert refund["amount"] == pytest.approx(899.0) and refund["approval_id"] == approval_id
    assert not (server.data_dir / "support.db").exists()  # the domain data is in PostgreSQL only
