from tests import factories
from tests.conftest import login


def test_login_and_home(client, db_session):
    purchaser = factories.user()
    login(client, purchaser.username)
    page = client.get("/")
    assert page.status_code == 200
    assert "政府采购电子卖场" in page.get_data(as_text=True)
    assert purchaser.display_name in page.get_data(as_text=True)
