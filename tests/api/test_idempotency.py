from tests.api.conftest import log_body


def test_replay_returns_original(office):
    emma = office["emma"]
    body = log_body(office)
    first = emma.post("/api/v1/worklogs", json=body, headers={"Idempotency-Key": "k-1"})
    again = emma.post("/api/v1/worklogs", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(emma.get("/api/v1/worklogs").json()["items"]) == 1


def test_same_key_different_body_is_422(office):
    emma = office["emma"]
    emma.post("/api/v1/worklogs", json=log_body(office), headers={"Idempotency-Key": "k-2"})
    other = emma.post(
        "/api/v1/worklogs", json=log_body(office, hours=1), headers={"Idempotency-Key": "k-2"}
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


def test_keys_are_per_user(office):
    body = log_body(office)
    first = office["emma"].post("/api/v1/worklogs", json=body, headers={"Idempotency-Key": "k-3"})
    second = office["jonas"].post("/api/v1/worklogs", json=body, headers={"Idempotency-Key": "k-3"})
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_invalid_key_rejected(office):
    response = office["emma"].post(
        "/api/v1/worklogs", json=log_body(office), headers={"Idempotency-Key": "x" * 300}
    )
    assert response.status_code == 422


def test_rejected_request_does_not_burn_key(office):
    emma = office["emma"]
    bad = emma.post(
        "/api/v1/worklogs", json=log_body(office, hours=30), headers={"Idempotency-Key": "k-4"}
    )
    assert bad.status_code == 422
    good = emma.post("/api/v1/worklogs", json=log_body(office), headers={"Idempotency-Key": "k-4"})
    assert good.status_code == 201
