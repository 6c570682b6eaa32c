# studybot: the bot with its default question bank. Data lives in /data (a volume).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml, so code edits don't reinstall them.
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .

# The default content; mount another folder over /app/content (or set STUDYBOT_CONTENT) to
# replace it.
COPY content ./content

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin studybot \
    && mkdir -p /data && chown studybot /data && chmod 700 /data
USER studybot

ENV STUDYBOT_DATABASE_URL=sqlite:////data/studybot.db \
    STUDYBOT_CONTENT=/app/content \
    STUDYBOT_HTTP_LISTEN=0.0.0.0:8080
VOLUME ["/data"]
EXPOSE 8080

# `studybot health` asks /healthz and exits non-zero unless it answers 200.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["studybot", "health"]

# Migrations run at start; SIGTERM (docker stop) finishes the push in flight, then exits.
CMD ["studybot", "run"]
