# motcua: the assistant's server (web chat, webhooks, officer console) in one image.
# Build: docker build -t motcua .   Run with PostgreSQL: docker compose up (compose.yaml).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot bot
COPY dialogs dialogs
COPY handlers handlers
COPY knowledge knowledge
COPY storage storage
COPY backoffice backoffice
RUN python -m venv /opt/motcua && /opt/motcua/bin/pip install .

FROM python:3.11-slim
# poppler is not needed at run time; fonts for the receipts ship inside matplotlib.
RUN groupadd --system motcua && useradd --system --gid motcua --home-dir /srv/motcua motcua \
    && mkdir -p /srv/motcua/var && chown -R motcua:motcua /srv/motcua && chmod 0700 /srv/motcua/var
COPY --from=build /opt/motcua /opt/motcua
COPY config.example.toml /srv/motcua/config.example.toml
ENV PATH=/opt/motcua/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    MOTCUA_CONFIG=/srv/motcua/motcua.toml \
    MOTCUA_WEB__HOST=0.0.0.0 \
    MOTCUA_WEB__PORT=8080 \
    MOTCUA_FILES__PATH=/srv/motcua/var/files
WORKDIR /srv/motcua
USER motcua
EXPOSE 8080
# SIGTERM (docker stop) shuts every worker down cleanly and exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
CMD ["motcua", "run"]
