# Ratchet's command-line tool as a container image, for self-hosted runners, other CI systems
# and local use:
#
#   docker build -t ratchet .
#   docker run --rm -v "$PWD:/repo" -e MINIMAX_API_KEY ratchet run --task "..."
#
# Offline or behind a mirror, build on another Debian/Ubuntu base that has python3 (>= 3.11)
# with venv and pip:  docker build --build-arg BASE_IMAGE=<image> ...
#
# Ratchet runs as the unprivileged user `ratchet` in this image. Started as root instead
# (`docker run --user 0`), it still runs the tests it judges as nobody (util-linux's setpriv,
# part of every Debian base), so their dependencies must be readable by every account.
#
# On GitHub-hosted runners prefer the composite action (action.yml): it runs on the host, so
# your project's own toolchain and setup steps apply to the tests.
ARG BASE_IMAGE=python:3.12-slim
FROM ${BASE_IMAGE}

ARG DEBIAN_FRONTEND=noninteractive

# git is required; bubblewrap (the test sandbox) is installed when the distribution has it.
RUN set -eux; \
    if ! command -v git >/dev/null 2>&1; then \
      apt-get update; \
      apt-get install -y --no-install-recommends git ca-certificates; \
    fi; \
    if ! command -v bwrap >/dev/null 2>&1; then \
      { apt-get update && apt-get install -y --no-install-recommends bubblewrap; } \
        || echo "bubblewrap is not available here; continuing without it"; \
    fi; \
    rm -rf /var/lib/apt/lists/*; \
    git --version; \
    python3 -c 'import sys; assert sys.version_info >= (3, 11), sys.version'

ENV VIRTUAL_ENV=/opt/ratchet \
    PATH=/opt/ratchet/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    MEM0_TELEMETRY=false

RUN python3 -m venv /opt/ratchet

# Extra packages for the tests Ratchet runs; pytest lets `ratchet demo` (a Python app) run as is.
# Add your project's test dependencies here, e.g. --build-arg EXTRA_PACKAGES="pytest requests".
ARG EXTRA_PACKAGES="pytest"

# Dependencies first, from pyproject.toml alone, so editing the source keeps this layer cached.
WORKDIR /tmp/ratchet-src
COPY pyproject.toml README.md ./
RUN python3 -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt $EXTRA_PACKAGES \
    && rm /tmp/requirements.txt

COPY src ./src
COPY examples ./examples
RUN pip install --no-deps . \
    && cd / && rm -rf /tmp/ratchet-src \
    && ratchet --version

# Run as an unprivileged user. A mounted repository usually belongs to another uid; git would
# refuse it as "dubious ownership" without the safe.directory entry.
RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin ratchet \
    && git config --system --add safe.directory '*'
USER ratchet
WORKDIR /repo

ENTRYPOINT ["ratchet"]
CMD ["--help"]
