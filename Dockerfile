# The project image: one image, one start script per process (docker/*.sh).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from the lock file, so code changes reuse this layer.
COPY requirements.lock pyproject.toml README.md ./
RUN pip install -r requirements.lock

COPY project ./project
COPY flowerconfig.py ./
COPY docker ./docker
RUN pip install --no-deps . \
    && useradd --create-home --uid 10001 app \
    && mkdir -p /app/var/flower \
    && chown -R app:app /app/var

# Never root: a task runs whatever its payload makes it do.
USER app

# Overridden per service in docker-compose.yml.
CMD ["docker/worker.sh"]
