-- Run once by the postgres image on an empty data directory
-- (mounted at /docker-entrypoint-initdb.d/ by docker-compose.yml).
-- The ledger: one database shared by every service (the eventsourcing tables).
CREATE DATABASE caseplatform;
-- The read models: one database per service (READMODEL_URL=.../caseplatform_{service}).
CREATE DATABASE caseplatform_intake;
CREATE DATABASE caseplatform_verification;
CREATE DATABASE caseplatform_review;
CREATE DATABASE caseplatform_publication;
CREATE DATABASE caseplatform_documents;
CREATE DATABASE caseplatform_audit;
-- The console's sessions (CONSOLE_SESSIONS_URL), shared by its processes.
CREATE DATABASE caseplatform_console;
CREATE DATABASE caseplatform_notifications;
-- The data subjects' keys and the access record (PERSONAL_KEYS_URL, issue #21): apart from the
-- ledger, so that no backup of the ledger holds a key that could bring erased data back.
CREATE DATABASE caseplatform_personal;
