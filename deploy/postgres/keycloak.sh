#!/bin/sh
# Run once by the postgres image on an empty data directory, after init.sql: Keycloak's
# own database and login, so the identity provider shares the server but none of the
# platform's data (and the platform's services none of its). The password comes from the
# operator (KEYCLOAK_DB_PASSWORD in docker-compose.yml); psql quotes it (:'...').
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v keycloak_password="$KEYCLOAK_DB_PASSWORD" <<'SQL'
CREATE ROLE keycloak LOGIN PASSWORD :'keycloak_password';
CREATE DATABASE keycloak OWNER keycloak;
REVOKE ALL ON DATABASE keycloak FROM PUBLIC;
SQL
