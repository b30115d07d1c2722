# Planwatch as a container: `planwatch run` as an unprivileged user, the database on the /data volume.
#   docker build -t planwatch .
#   docker run -d -v planwatch-data:/data -e DISCORD_TOKEN=... -e PLANWATCH_SECRET=... planwatch
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY planwatch ./planwatch
COPY bot ./bot
COPY digests ./digests
COPY migrations ./migrations
COPY templates ./templates
RUN pip install . \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home planwatch \
    && mkdir -p /data \
    && chown planwatch:planwatch /data \
    && rm -rf /src

USER planwatch
WORKDIR /data
ENV PLANWATCH_DB=/data/planwatch.db \
    PLANWATCH_OUTBOX=/data/outbox \
    PLANWATCH_WEB_HOST=0.0.0.0 \
    PLANWATCH_WEB_PORT=8080
VOLUME ["/data"]
EXPOSE 8080

# Healthy while the scheduler keeps ticking (it records each tick in the database).
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 CMD ["planwatch", "health"]
CMD ["planwatch", "run"]
