# The NanoGrid product image: controller and worker (one image, two entry points).
#   docker build -t nanogrid:latest .
#   docker run --rm nanogrid:latest nanogrid-controller --host 0.0.0.0 --port 8080
#   docker run --rm nanogrid:latest nanogrid-worker
# docker-compose.yml runs the whole product with Redis, LocalStack and Jaeger.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# util-linux: unshare, the process runtime's network isolation.
RUN apt-get update \
    && apt-get install -y --no-install-recommends util-linux \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY nanogrid ./nanogrid
COPY harness ./harness
COPY scenarios ./scenarios
# The docker SDK for the Docker runtime; the harness extra is not needed in production.
RUN pip install ".[containers]"

RUN useradd --system --home-dir /var/lib/nanogrid --create-home nanogrid
USER nanogrid
ENV NANOGRID_WORK_DIR=/var/lib/nanogrid/work

EXPOSE 8080
CMD ["nanogrid-controller", "--host", "0.0.0.0", "--port", "8080"]
