import pytest


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path):
    """Each test stores its uploads in its own directory."""
    previous = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = previous
