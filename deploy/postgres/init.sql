-- Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d),
-- as POSTGRES_USER. One database per service: services never read each other's tables.
-- On an existing volume this file is not run again; create any missing database by hand.
CREATE DATABASE referral;
CREATE DATABASE risk;
CREATE DATABASE meetings;
