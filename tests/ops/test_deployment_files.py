"""The deployment files agree with the settings: a setting added to one place and not the others
fails here."""

from __future__ import annotations

import re

import yaml
from sqlalchemy.engine import make_url

from bot.settings import Settings
from tests.conftest import REPO

NAME = re.compile(r"\bSTUDYBOT_[A-Z0-9_]+\b")


def settings_names() -> set[str]:
    return {f"STUDYBOT_{name.upper()}" for name in Settings.model_fields} | {"STUDYBOT_CONFIG"}


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    assigned = set(re.findall(r"^#? ?(STUDYBOT_[A-Z0-9_]+)=", text, flags=re.MULTILINE))
    assert assigned == settings_names()


def test_every_setting_in_env_example_has_a_comment_above_it() -> None:
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        if re.match(r"^#? ?STUDYBOT_", line):
            above = lines[i - 1]
            assert above.startswith("#"), f"no comment above {line}"


def test_the_readme_settings_table_names_every_setting() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert set(NAME.findall(table)) == settings_names()


def test_the_compose_file_runs_the_bot_with_a_volume_env_file_and_health_check() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    service = compose["services"]["studybot"]
    assert service["env_file"] == ".env"
    assert service["restart"] in ("unless-stopped", "always")
    assert service["healthcheck"]["test"] == ["CMD", "studybot", "health"]
    volume, mount = service["volumes"][0].split(":")[:2]
    assert volume in compose["volumes"] and mount == "/data"
    assert set(service["environment"]) <= settings_names()
    url = interpolate(service["environment"]["STUDYBOT_DATABASE_URL"], {})
    assert url.startswith("sqlite:////data/") and Settings(database_url=url).database_url == url
    port = service["environment"]["STUDYBOT_HTTP_LISTEN"].rsplit(":", 1)[1]
    assert any(str(p).endswith(f":{port}") for p in service["ports"])


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} with `env` as .env."""
    def one(match: re.Match[str]) -> str:
        name, op, default = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        assert op != ":?", f"{name} must be set"
        return default if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def env_example_postgres_lines() -> dict[str, str]:
    """The commented lines of .env.example that turn the compose file's postgres profile on."""
    text = (REPO / ".env.example").read_text(encoding="utf-8")
    env: dict[str, str] = {}
    for name in ("COMPOSE_PROFILES", "POSTGRES_PASSWORD", "DATABASE_URL"):
        [value] = re.findall(rf"^# {name}=(.*)$", text, flags=re.MULTILINE)
        env[name] = interpolate(value, env)  # compose expands ${...} in .env too
    return env


def test_the_postgres_profile_adds_a_server_the_bot_waits_for_and_nothing_else_by_default(
) -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    server = compose["services"]["postgres"]
    assert server["profiles"] == ["postgres"] and server["image"].startswith("postgres:")
    assert "ports" not in server  # reachable by the bot on the compose network only
    volume, mount = server["volumes"][0].split(":")[:2]
    assert volume in compose["volumes"] and mount == "/var/lib/postgresql/data"
    assert server["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    # One bot, whatever the profiles: two on the same token would each post every group.
    bots = [name for name, s in compose["services"].items() if s.get("image", "").startswith(
        "studybot")]
    assert bots == ["studybot"] and "profiles" not in compose["services"]["studybot"]
    waits = compose["services"]["studybot"]["depends_on"]["postgres"]
    # required: false, or `docker compose up` without the profile would refuse to start.
    assert waits == {"condition": "service_healthy", "required": False}


def test_the_env_example_postgres_lines_point_the_bot_at_the_compose_server() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    env = env_example_postgres_lines()
    server = compose["services"]["postgres"]
    assert env["COMPOSE_PROFILES"] in server["profiles"]
    url = interpolate(compose["services"]["studybot"]["environment"]["STUDYBOT_DATABASE_URL"],
                      env)
    assert Settings(database_url=url).database_url == url
    parsed = make_url(url)
    given = {name: interpolate(value, env) for name, value in server["environment"].items()}
    assert parsed.get_backend_name() == "postgresql" and parsed.host == "postgres"
    assert (parsed.username, parsed.password, parsed.database) == (
        given["POSTGRES_USER"], given["POSTGRES_PASSWORD"], given["POSTGRES_DB"])
    assert server["healthcheck"]["test"][2:] == [f"--username={given['POSTGRES_USER']}",
                                                 f"--dbname={given['POSTGRES_DB']}"]


def test_the_dockerfile_runs_as_a_non_root_user_with_a_health_check_and_studybot_run() -> None:
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0].startswith("FROM python:3.1") and "slim" in instructions[0]
    users = [line for line in instructions if line.startswith("USER ")]
    assert users and users[-1] not in ("USER root", "USER 0")
    assert any(line.startswith("HEALTHCHECK") for line in instructions)
    assert 'CMD ["studybot", "health"]' in "\n".join(lines)
    assert instructions[-1] == 'CMD ["studybot", "run"]'
    assert "RUN pip install ." in instructions and "COPY content ./content" in instructions
    for name in NAME.findall("\n".join(instructions)):
        assert name in settings_names()


def test_the_image_leaves_secrets_and_local_data_out() -> None:
    ignored = set((REPO / ".dockerignore").read_text().split())
    assert {".env", "data", ".venv", ".git", "config/studybot.toml"} <= ignored
