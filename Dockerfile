# One image for the Cell Monitor cluster side (Ray head, Serve ingest, actors).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cellmon cellmon
COPY cellmon_cli cellmon_cli
COPY cellmon_research cellmon_research
COPY actors actors
COPY serve_app serve_app
COPY streamlit_dashboard streamlit_dashboard
COPY jupyter_ext jupyter_ext
RUN pip install --no-cache-dir '.[server]'
ENV CELLMON_HTTP_HOST=0.0.0.0 CELLMON_STATE_DIR=/var/lib/cellmon RAY_AUTH_MODE=token
EXPOSE 8000
CMD ["cellmon", "up", "--wait"]
