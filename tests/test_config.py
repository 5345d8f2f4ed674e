import pytest

from config import DEFAULT_SECRET_KEY, ProductionConfig, config_for, database_url


@pytest.fixture
def production_env(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    return monkeypatch


@pytest.mark.parametrize("key", [None, "", DEFAULT_SECRET_KEY, "too-short"])
def test_production_refuses_a_weak_or_default_secret_key(production_env, key):
    if key is None:
        production_env.delenv("SECRET_KEY", raising=False)
    else:
        production_env.setenv("SECRET_KEY", key)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        config_for("production")


def test_production_requires_database_and_redis(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(RuntimeError, match="DATABASE_URL"):
        config_for("production")


def test_production_reads_the_environment(production_env):
    production_env.setenv("SECRET_KEY", "k" * 48)
    production_env.setenv("ELASTICSEARCH_URL", "http://search:9200")
    config = config_for("production")
    assert config is ProductionConfig
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    assert config.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/0"
    assert config.JOBS_BACKEND == "rq"
    assert config.SEARCH_BACKEND == "elasticsearch"


def test_development_default_needs_nothing_running(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = config_for("development")
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///")
    assert config.JOBS_BACKEND == "inprocess"
    assert config.SEARCH_BACKEND == "tantivy"
    assert config.PAYMENTS_PROVIDER == "stub"
    assert config.SECRET_KEY != DEFAULT_SECRET_KEY and len(config.SECRET_KEY) >= 32


def test_unknown_app_env_is_refused():
    with pytest.raises(RuntimeError, match="APP_ENV"):
        config_for("staging")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_picks_psycopg3(url, expected):
    assert database_url(url) == expected
