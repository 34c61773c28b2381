# Track service image. Build from the repository root: docker build -t track:0.1.0 .
# The build stage installs the project into a virtual environment; the final stage copies only
# that environment, so no pip cache, build tools or sources reach the image.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/track
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app/ app/
COPY operator/ operator/
# A non-editable install, so the environment does not point back at /src.
RUN /opt/track/bin/pip install .

FROM ${PYTHON_IMAGE}
# 10001 matches runAsUser in charts/track/values.yaml.
RUN groupadd --system --gid 10001 track \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin track
COPY --from=build /opt/track /opt/track
ENV PATH=/opt/track/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TRACK_TERMINATION_LOG=/dev/termination-log
# The root filesystem may be read-only: Kubernetes mounts a writable /dev/termination-log for
# the crash report, and the chart mounts /tmp for multiprocess metrics.
USER 10001:10001
WORKDIR /tmp
EXPOSE 8000
CMD ["track", "serve", "--host", "0.0.0.0", "--port", "8000"]
