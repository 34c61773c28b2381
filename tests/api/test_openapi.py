from starlette.routing import Route

from app.main import api_routes


def test_document_lists_every_api_route(shared_app_client):
    document = shared_app_client.get("/api/v1/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    for route in api_routes():
        assert isinstance(route, Route)
        path = route.path.replace(":int}", "}")
        if path.endswith("openapi.json"):
            continue
        for method in route.methods - {"HEAD"}:
            assert (method, path) in documented


def test_request_schemas_resolve(shared_app_client):
    document = shared_app_client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    for operations in document["paths"].values():
        for operation in operations.values():
            body = operation.get("requestBody")
            if body:
                ref = body["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in schemas
    assert "errors" in schemas["Problem"]["properties"]


def test_unknown_page_gets_the_ui_for_browsers(shared_app_client):
    page = shared_app_client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    api = shared_app_client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert api.headers["content-type"] == "application/problem+json"
