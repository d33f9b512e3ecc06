# rcm_map: Streamlit app + offline map assets. Build: docker build -t rcm-map .
# Run:   docker run -p 8501:8501 -e RCM_MAP_DATABASE_URL=... rcm-map   (see docs/deploy.md)

# --- stage 1: browser assets from npm (node is not needed at run time) -------------
FROM node:22-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

# --- stage 2: the app ---------------------------------------------------------------
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_PORT=8501 \
    STREAMLIT_SERVER_ADDRESS=0.0.0.0 \
    STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false \
    STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION=true \
    STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none \
    STREAMLIT_CLIENT_TOOLBAR_MODE=viewer \
    STREAMLIT_SERVER_MAX_UPLOAD_SIZE=20 \
    STREAMLIT_SERVER_ENABLE_STATIC_SERVING=true

# curl for the health check; DejaVu Sans for the PDF referral sheet.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system app && useradd --system --gid app --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app

# Pinned runtime dependencies first: this layer is reused until requirements.txt changes.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY pyproject.toml README.md ./
COPY rcm_map ./rcm_map
COPY app.py ./
COPY .streamlit/config.toml ./.streamlit/config.toml
COPY data ./data
# Editable, so `rcm-map` and the app both resolve data/ and static/ under /app.
RUN pip install --no-deps -e .

# The same copy step as `make setup` (python -m rcm_map.render.assets install), from stage 1.
COPY --from=assets /src/node_modules ./node_modules
RUN python -m rcm_map.render.assets install && rm -rf node_modules

# The file store writes beside the registry (sidecar, lock, backups): data/ belongs
# to the app user; with PostGIS (RCM_MAP_DATABASE_URL) nothing is written here.
RUN chown -R app:app /app/data
USER app

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=40s --retries=3 \
  CMD curl --fail --silent --show-error http://localhost:8501/_stcore/health || exit 1

CMD ["streamlit", "run", "app.py"]
