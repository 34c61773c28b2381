def test_project_without_phases(track):
    manager = track.user("mara", "manager")
    created = manager.post("/api/v1/projects", json={"name": "Villa Extension"})
    assert created.status_code == 201
    project = manager.get(f"/api/v1/projects/{created.json()['id']}").json()
    assert project["phases"] == []
