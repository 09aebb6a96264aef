"""The bridge's TOML configuration and the Secret type."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bridge.config import (
    DEFAULT_MAVENTA_URL,
    DEFAULT_SEVERA_URL,
    DEFAULT_SMTP_PORT,
    Config,
    ConfigError,
    Secret,
    load_config,
    parse_config,
)

FULL = """\
[severa]
base_url = "https://api.severa.visma.com/rest-api/"
client_id = "client-1"
client_secret_env = "MY_SEVERA_SECRET"
scopes = "invoices:read, invoices:write customers:read"

[maventa]
base_url = "https://ax.maventa.com"
vendor_api_key = "vendor-key-in-file-123456"

[smtp]
host = "smtp.example.fi"
port = 587
tls = "starttls"
username = "bridge"
from_address = "bridge@example.fi"
timeout = 5

[store]
path = "data/bridge.sqlite3"

[sync]
poll_interval = 30
"""


def test_no_file_means_the_sandbox_defaults() -> None:
    cfg = load_config(None, env={})
    assert cfg.severa.base_url == DEFAULT_SEVERA_URL == "http://127.0.0.1:8701/rest-api"
    assert cfg.maventa.base_url == DEFAULT_MAVENTA_URL == "http://127.0.0.1:8702"
    assert cfg.maestro.base_url == "http://127.0.0.1:8703/api"
    assert (cfg.smtp.host, cfg.smtp.port, cfg.smtp.tls) == ("127.0.0.1", DEFAULT_SMTP_PORT, "none")
    assert cfg.severa.client_secret is None and cfg.maventa.vendor_api_key is None
    assert cfg.store.path == "bridge.sqlite3" and cfg.sync.poll_interval == 60.0


def test_a_full_file(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(FULL, encoding="utf-8")
    cfg = load_config(path, env={"MY_SEVERA_SECRET": "sev-secret-abcdef", "SMTP_PASSWORD": "smtp-pw-123456"})
    assert cfg.severa.base_url == "https://api.severa.visma.com/rest-api"
    assert cfg.severa.client_id == "client-1"
    assert cfg.severa.client_secret == Secret("sev-secret-abcdef")
    assert cfg.severa.scopes == ("invoices:read", "invoices:write", "customers:read")
    assert cfg.maventa.vendor_api_key == Secret("vendor-key-in-file-123456")
    assert cfg.smtp.password == Secret("smtp-pw-123456")  # the conventional variable
    assert (cfg.smtp.port, cfg.smtp.tls, cfg.smtp.timeout) == (587, "starttls", 5.0)
    assert cfg.store.path == str(tmp_path / "data" / "bridge.sqlite3")
    assert cfg.sync.poll_interval == 30.0
    assert cfg.source == str(path)


def test_conventional_environment_variables() -> None:
    env = {
        "SEVERA_CLIENT_SECRET": "a-secret-1234",
        "MAVENTA_VENDOR_API_KEY": "v-key-1234",
        "MAESTRO_API_KEY": "m-key-1234",
        "SMTP_PASSWORD": "pw-1234",
    }
    cfg = parse_config("", env=env)
    assert [
        s.reveal()
        for s in (
            cfg.severa.client_secret,
            cfg.maventa.vendor_api_key,
            cfg.maestro.api_key,
            cfg.smtp.password,
        )
        if s
    ] == list(env.values())


def test_file_value_wins_over_the_conventional_variable() -> None:
    cfg = parse_config('[smtp]\npassword = "from-file"\n', env={"SMTP_PASSWORD": "from-env"})
    assert cfg.smtp.password == Secret("from-file")


def test_redacted_view_hides_every_secret() -> None:
    cfg = parse_config(FULL, env={"MY_SEVERA_SECRET": "sev-secret-abcdef", "SMTP_PASSWORD": "smtp-pw-123456"})
    view = cfg.redacted()
    assert view["severa"]["client_secret"] == "***"
    assert view["maventa"]["vendor_api_key"] == "***"
    assert view["maestro"]["api_key"] is None
    assert view["severa"]["scopes"] == ["invoices:read", "invoices:write", "customers:read"]
    text = repr(view) + repr(cfg) + str(cfg)
    for secret in ("sev-secret-abcdef", "vendor-key-in-file-123456", "smtp-pw-123456"):
        assert secret not in text


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        (
            '[smtp]\nport = "25"\n',
            {},
            r"<config>:2: \[smtp\] port: expected an integer port 1-65535, got '25'",
        ),
        ("[smtp]\nport = 70000\n", {}, r":2: \[smtp\] port: expected an integer port 1-65535"),
        ('[smtp]\ntls = "yes"\n', {}, r'\[smtp\] tls: expected one of "none", "starttls", "ssl"'),
        ('[smtp]\nfrom_address = "nobody"\n', {}, r"from_address: expected an e-mail address"),
        ('[severa]\nbase_url = "ftp://x"\n', {}, r"base_url: expected an http:// or https:// URL"),
        ("[sync]\npoll_interval = 0\n", {}, r"poll_interval: expected a number of seconds greater than 0"),
        ("[severa]\nscopes = [1]\n", {}, r"scopes: expected a list of scope strings"),
        ('[smtp]\nhots = "x"\n', {}, r":2: \[smtp\] hots: unknown key; did you mean 'host'\?"),
        ('\n[smpt]\nhost = "x"\n', {}, r":2: \[smpt\]: unknown table; did you mean 'smtp'\?"),
        ('[smtp]\npassword = "a"\npassword_env = "B"\n', {}, r":3: \[smtp\] password_env: give either"),
        (
            '[maventa]\nvendor_api_key_env = "NOPE_NOT_SET"\n',
            {},
            r":2: \[maventa\] vendor_api_key_env: environment variable NOPE_NOT_SET is not set",
        ),
        (
            '[maventa]\nvendor_api_key_env = "not a name"\n',
            {},
            r"expected the name of an environment variable",
        ),
        ("[smtp]\npassword = 5\n", {}, r"\[smtp\] password: expected a string, got an integer"),
        ("smtp = 5\n", {}, r"\[smtp\]: expected a table \[smtp\], got an integer"),
        ("[smtp\nhost = 1\n", {}, r"<config>: not valid TOML: .*line 1"),
    ],
)
def test_errors_name_the_place_the_key_and_what_was_expected(
    text: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(text, env=env)


def test_a_wrong_secret_type_does_not_echo_the_value() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config('[smtp]\npassword = ["hunter2-secret"]\n', env={})
    assert "hunter2-secret" not in str(exc.value)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: configuration file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[store]\n\npath = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{bad}:3: \[store\] path: expected a file path"):
        load_config(bad)


def test_memory_and_absolute_store_paths_are_kept(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[store]\npath = ":memory:"\n', encoding="utf-8")
    assert load_config(f, env={}).store.path == ":memory:"
    f.write_text(f'[store]\npath = "{tmp_path / "x.db"}"\n', encoding="utf-8")
    assert load_config(f, env={}).store.path == str(tmp_path / "x.db")


def test_secret_is_masked_everywhere_and_compares_by_value() -> None:
    s = Secret("abc-very-secret")
    assert repr(s) == "Secret('***')" and str(s) == "***" and f"{s}" == "***" and f"{s:>5}" == "  ***"
    assert (
        s == Secret("abc-very-secret") and s != Secret("other") and hash(s) == hash(Secret("abc-very-secret"))
    )
    assert s.reveal() == "abc-very-secret"
    assert not Secret("") and Secret.of("") is None and Secret.of(None) is None and Secret.of(s) is s
    with pytest.raises(TypeError):
        pickle.dumps(s)
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


_PLAIN = parse_config("", env={})
_BASELINE = repr(_PLAIN) + str(_PLAIN.redacted())


@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=4))
def test_no_secret_value_ever_reaches_repr_or_the_redacted_view(value: str) -> None:
    assume(value not in _BASELINE)  # a "secret" like "None" would be found in any repr
    env = {
        "SEVERA_CLIENT_SECRET": value,
        "MAVENTA_VENDOR_API_KEY": value,
        "SMTP_PASSWORD": value,
        "MAESTRO_API_KEY": value,
    }
    cfg: Config = parse_config("", env=env)
    assert cfg.smtp.password is not None and cfg.smtp.password.reveal() == value
    for text in (repr(cfg), str(cfg), repr(cfg.redacted()), str(cfg.redacted())):
        assert value not in text
