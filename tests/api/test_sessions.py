from tests.fixtures import PASSWORD, create_user


def sign_in(client, username, password=PASSWORD, **headers):
    return client.post(
        "/api/v1/session", json={"username": username, "password": password}, headers=headers
    )


def test_sign_in_sets_safe_cookie(track):
    create_user(track.url, "emma", "engineer")
    response = sign_in(track.client, "emma")
    assert response.status_code == 201
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert PASSWORD not in response.text
    me = track.client.get("/api/v1/me")
    assert me.json()["username"] == "emma"


def test_sign_in_is_case_insensitive(track):
    create_user(track.url, "emma", "engineer")
    assert sign_in(track.client, "EMMA").status_code == 201


def test_sign_out_ends_session(track):
    create_user(track.url, "emma", "engineer")
    sign_in(track.client, "emma")
    stolen = dict(track.client.cookies)
    assert track.client.delete("/api/v1/session").status_code == 204
    assert track.client.get("/api/v1/me").status_code == 401
    # The old cookie value is dead on the server, not only deleted in the browser.
    track.client.cookies.update(stolen)
    assert track.client.get("/api/v1/me").status_code == 401


def test_wrong_password_and_unknown_user_look_alike(track):
    create_user(track.url, "emma", "engineer")
    wrong = sign_in(track.client, "emma", "not-the-password")
    unknown = sign_in(track.client, "nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_forged_cookie_rejected(track):
    track.client.cookies.set("track_session", "forged.value")
    assert track.client.get("/api/v1/me").status_code == 401


def test_cross_site_write_rejected(track):
    create_user(track.url, "emma", "engineer")
    sign_in(track.client, "emma")
    response = track.client.post(
        "/api/v1/projects",
        json={"name": "x"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    origin_only = track.client.post(
        "/api/v1/worklogs", json={}, headers={"Origin": "https://evil.example"}
    )
    assert origin_only.status_code == 403
    same_origin = track.client.post(
        "/api/v1/worklogs",
        json={},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert same_origin.status_code == 422


def test_sign_in_throttled_after_failures(database_url):
    from tests.fixtures import Track, base_env

    env = base_env(database_url, TRACK_LOGIN_ATTEMPTS="3/15 minutes")
    track = Track(database_url, env)
    try:
        create_user(database_url, "emma", "engineer")
        for _ in range(3):
            assert sign_in(track.client, "emma", "wrong-password").status_code == 401
        blocked = sign_in(track.client, "emma")
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) >= 1
    finally:
        track.close()


def test_token_revocation(track):
    admin = track.user("root", "admin")
    create_user(track.url, "emma", "engineer")
    created = admin.post("/api/v1/tokens", json={"username": "emma", "name": "script"})
    assert created.status_code == 201
    secret = created.json()["token"]
    headers = {"Authorization": f"Bearer {secret}"}
    assert track.client.get("/api/v1/me", headers=headers).json()["username"] == "emma"
    listed = admin.get("/api/v1/tokens").json()["items"]
    assert all("token" not in item for item in listed)
    assert admin.delete(f"/api/v1/tokens/{created.json()['id']}").status_code == 204
    assert track.client.get("/api/v1/me", headers=headers).status_code == 401


def test_deactivated_user_locked_out(track):
    admin = track.user("root", "admin")
    emma = track.user("emma", "engineer")
    emma_id = emma.get("/api/v1/me").json()["id"]
    assert admin.patch(f"/api/v1/users/{emma_id}", json={"active": False}).status_code == 200
    assert emma.get("/api/v1/me").status_code == 401
    assert sign_in(track.client, "emma").status_code == 401


def test_admin_creates_users_with_valid_fields(track):
    admin = track.user("root", "admin")
    good = admin.post(
        "/api/v1/users",
        json={
            "username": "lea",
            "role": "engineer",
            "password": "long-enough-1",
            "timezone": "Europe/Berlin",
        },
    )
    assert good.status_code == 201
    assert "password" not in good.text
    bad = admin.post(
        "/api/v1/users",
        json={"username": "x y", "role": "boss", "password": "short", "timezone": "Mars/Olympus"},
    )
    assert bad.status_code == 422
    fields = {error["field"] for error in bad.json()["errors"]}
    assert fields == {"username", "role", "password", "timezone"}
