# Acme Support Desk on Aegra: one app instance (`support serve --engine aegra`). docker-compose.yml runs
# several behind a load balancer, with Postgres and Redis. Aegra needs Python 3.12.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SUPPORT_DATA_DIR=/var/lib/support \
    SUPPORT_AEGRA_PYTHON=/usr/local/bin/python

WORKDIR /app
# The versions tested together (`make aegra` installs the same into .venv-aegra).
COPY constraints-aegra.txt pyproject.toml README.md LICENSE langgraph.json ./
COPY cli ./cli
COPY evals ./evals
COPY graph ./graph
COPY llm ./llm
COPY nodes ./nodes
COPY service ./service
COPY tools ./tools
# Editable, as in development: `support serve` finds langgraph.json and the graph beside the code.
RUN pip install --no-cache-dir -c constraints-aegra.txt aegra-api aegra-cli -e '.[postgres]' \
    && useradd --system --create-home support \
    && mkdir -p "$SUPPORT_DATA_DIR" && chown support "$SUPPORT_DATA_DIR"
USER support

EXPOSE 8000
# SUPPORT_DATABASE_URL, SUPPORT_REDIS_URL and the tokens (SUPPORT_TOKENS_FILE or SUPPORT_MANAGER_TOKENS /
# SUPPORT_CUSTOMER_TOKENS) come from the environment; see docker-compose.yml.
CMD ["support", "serve", "--engine", "aegra", "--host", "0.0.0.0", "--port", "8000"]
