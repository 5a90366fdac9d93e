# paysandbox: every gateway on one port, served by gunicorn (one gthread worker; SANDBOX_WORKERS=2 or more with a
# postgresql:// SANDBOX_DATA, whose database the workers share: see docs/docker.md).
# State lives in memory unless SANDBOX_DATA names a file; keep it in the /data volume to survive a restart:
#   docker run -v paysandbox:/data -e SANDBOX_DATA=/data/paysandbox.json -p 8008:8008 paysandbox
# For SDKs with hard-coded hosts, the worker also runs an HTTPS proxy and a TLS port when these are set (off by
# default; the sandbox CA they use is at /_sandbox/ca.pem, kept in SANDBOX_DATA when set):
#   -e SANDBOX_PROXY_PORT=8080 -p 8080:8080   CONNECT to a provider host is answered by the sandbox itself
#   -e SANDBOX_TLS_PORT=8443 -p 8443:8443     every gateway over HTTPS (443 in compose: docs/gateways/tls-and-proxy.md)
# tests/test_container.py runs this file's pip install, CMD and HEALTHCHECK lines: keep each one runnable alone.
FROM python:3.11-slim

# The release workflow adds org.opencontainers.image.version (and created, revision) from the git tag.
LABEL org.opencontainers.image.title="paysandbox" \
      org.opencontainers.image.description="A local sandbox that speaks the real wire protocols of Alipay, WeChat Pay and UnionPay" \
      org.opencontainers.image.source="https://github.com/paysandbox/paysandbox" \
      org.opencontainers.image.licenses="MIT AND 0BSD"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    SANDBOX_HOST=0.0.0.0 \
    SANDBOX_PORT=8008 \
    SANDBOX_FIXTURES=/app/fixtures

WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY sandbox ./sandbox
COPY fixtures ./fixtures
RUN pip install ".[server]"
RUN useradd --create-home --uid 10001 paysandbox && mkdir -p /data && chown paysandbox /data

USER paysandbox
VOLUME ["/data"]
EXPOSE 8008 8080 8443
# No curl in the slim image: ask with Python.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_sandbox/health' % os.environ.get('SANDBOX_PORT', '8008'), timeout=2)"
# gunicorn handles SIGTERM (docker stop): it finishes in-flight requests, then the worker writes the store file.
CMD ["python", "-m", "gunicorn", "--config", "python:sandbox.gunicorn_conf", "sandbox.wsgi:app"]
