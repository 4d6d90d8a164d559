-- Least-privilege PostgreSQL accounts for ShopSight (ASVS V13.2.2), one database. Run once as a superuser:
--
--   psql "postgresql://admin@db.example/shop?sslmode=verify-full&sslrootcert=ca.pem" \
--     -v database=shop -v publisher=shopsight_publisher -v publish_schema=shopsight \
--     -v metadata_role=shopsight_metadata -v reader=bi_reader -f docs/security/postgres-roles.sql
--
-- publisher      `shopsight publish --to`: creates, replaces and comments tables in publish_schema only.
-- metadata_role  `metadata_url`: owns a schema of its own name and keeps the whole metadata store there.
-- reader         (optional) a BI tool: reads what the publisher publishes, nothing else.
-- None of them is a superuser, creates roles or databases, owns the database, or may touch the others'
-- schemas or public. No password is set here: log them in by client certificate (pg_hba.conf
-- `hostssl shop shopsight_publisher,shopsight_metadata 0.0.0.0/0 cert`, docs/security/communications.md)
-- or give each its own secret with \password. tests/integration/test_least_privilege_postgres.py runs
-- this file and checks each boundary.
\set ON_ERROR_STOP on

-- Nothing is created in this database unless granted below (PostgreSQL 15 already locks schema public).
REVOKE CREATE, TEMPORARY ON DATABASE :"database" FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

CREATE ROLE :"publisher" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT CONNECT ON DATABASE :"database" TO :"publisher";
-- The schema belongs to the administrator: the publisher may add tables to it (and drop its own), not
-- drop the schema or grant on it.
CREATE SCHEMA IF NOT EXISTS :"publish_schema";
GRANT USAGE, CREATE ON SCHEMA :"publish_schema" TO :"publisher";

CREATE ROLE :"metadata_role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT CONNECT ON DATABASE :"database" TO :"metadata_role";
CREATE SCHEMA :"metadata_role" AUTHORIZATION :"metadata_role";
ALTER ROLE :"metadata_role" IN DATABASE :"database" SET search_path = :"metadata_role";

\if :{?reader}
CREATE ROLE :"reader" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
GRANT CONNECT ON DATABASE :"database" TO :"reader";
GRANT USAGE ON SCHEMA :"publish_schema" TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"publisher" IN SCHEMA :"publish_schema" GRANT SELECT ON TABLES TO :"reader";
\endif
