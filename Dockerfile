# paysandbox: every gateway on one port. State lives in memory unless SANDBOX_DATA names a file,
# e.g. docker run -v paysandbox:/data -e SANDBOX_DATA=/data/paysandbox.json -p 8008:8008 paysandbox
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SANDBOX_HOST=0.0.0.0 \
    SANDBOX_PORT=8008 \
    SANDBOX_FIXTURES=/app/fixtures

WORKDIR /app
COPY pyproject.toml README.md ./
COPY sandbox ./sandbox
COPY fixtures ./fixtures
RUN pip install . \
 && useradd --create-home --uid 10001 paysandbox \
 && mkdir -p /data && chown paysandbox /data

USER paysandbox
VOLUME ["/data"]
EXPOSE 8008
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/_sandbox/health' % os.environ.get('SANDBOX_PORT', '8008'), timeout=2)"
CMD ["paysandbox", "serve"]
