"""The deployment files agree with the settings: a setting added to one place and not the others
fails here."""

from __future__ import annotations

import re

import yaml

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
    url = service["environment"]["STUDYBOT_DATABASE_URL"]
    assert url.startswith("sqlite:////data/") and Settings(database_url=url).database_url == url
    port = service["environment"]["STUDYBOT_HTTP_LISTEN"].rsplit(":", 1)[1]
    assert any(str(p).endswith(f":{port}") for p in service["ports"])


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
