# picycle: the web processes (`picycle serve`) and the timer worker (`picycle worker`) from
# one image; compose.yaml runs both beside PostgreSQL.
FROM python:3.11-slim

# pg_dump and pg_restore for `picycle backup` / `picycle restore` on PostgreSQL.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 picycle
WORKDIR /opt/picycle
COPY pyproject.toml README.md ./
COPY picycle picycle
COPY engine engine
COPY api api
COPY cli cli
COPY processes processes
COPY pages pages
RUN pip install --no-cache-dir . && rm -rf /opt/picycle/*

USER picycle
ENV PICYCLE_HOST=0.0.0.0 \
    PICYCLE_PORT=8080 \
    PICYCLE_DATA_DIR=/home/picycle/data
EXPOSE 8080
# Liveness: the process answers (readiness, /api/v1/health, also checks the database).
HEALTHCHECK --interval=30s --timeout=5s \
    CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8080/api/v1/health/live', timeout=4)"
# SIGTERM (docker stop) lets requests in progress finish: give it PICYCLE_GRACE seconds.
STOPSIGNAL SIGTERM
ENTRYPOINT ["picycle"]
CMD ["serve"]
