from fastapi.testclient import TestClient

from shopsight.api.app import create_app
from shopsight.platform import Platform


def test_health_answers_200(platform: Platform) -> None:
    with TestClient(create_app(platform)) as client:
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
