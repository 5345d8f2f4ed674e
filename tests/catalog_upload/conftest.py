import pytest


@pytest.fixture(autouse=True)
def upload_dir(request, tmp_path):
    """Each test stores its uploads in a directory of its own."""
    path = tmp_path / "uploads"
    if "app" not in request.fixturenames:  # tests that build their own app (RQ) set it themselves
        yield path
        return
    app = request.getfixturevalue("app")
    previous = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(path)
    yield path
    app.config["UPLOAD_DIR"] = previous
