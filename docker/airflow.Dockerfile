# Airflow image with the mfa-ingest library installed (pipeline/ and mfa_airflow/), pinned by requirements/lock.txt.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

USER root
RUN mkdir -p /opt/mfa-ingest/state && chown -R airflow: /opt/mfa-ingest
USER airflow
WORKDIR /opt/mfa-ingest

COPY --chown=airflow requirements/lock.txt requirements/lock.txt
# The lock pins apache-airflow at the image's version, so this adds the pipeline's libraries only.
RUN pip install --no-cache-dir -r requirements/lock.txt
COPY --chown=airflow pyproject.toml README.md ./
COPY --chown=airflow pipeline pipeline
COPY --chown=airflow mfa_airflow mfa_airflow
RUN pip install --no-cache-dir --no-deps .
ENV MFA_REPO=/opt/mfa-ingest
