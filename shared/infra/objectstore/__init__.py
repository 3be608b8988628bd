"""Evidence files in an S3 object store (MinIO in deployment, SeaweedFS in tests).

Every file is stored under its content's SHA-256 (`sha256/<hex>`) and is never
overwritten: the same bytes uploaded twice are stored once, and the store has no
delete method. The bucket is created with object lock where the server allows it
(every version is then kept under a GOVERNANCE default retention), and always with
versioning, so even a write made behind the store's back leaves the original
version in place, and `sha256_of_stored` shows that the latest one no longer
matches its key.

Uploads are read in chunks into a spooled temporary file (memory up to 8 MiB, then
disk) while they are hashed, so a file is never held whole in memory; the upload
to the server goes in 16 MiB parts, one at a time.

No nameko and no HTTP framework here: a service's DependencyProvider builds one
`EvidenceStore.from_settings(settings)` in `setup()` and calls `ensure_bucket()`.

- `spooling`: reading an upload to its end, bounded, hashed, spooled (no server).
- `keys`: the object keys of files (by SHA-256) and of the ledger's checkpoints.
- `store`: `EvidenceStore`, the bucket and what is written to and read from it.
- `reading`: a stored file as a stream, and the name a download is offered under.
- `results`: what the store answers (a stored object, its versions, the bucket's status).
- `errors`: refusals of an upload and failures of the store (their HTTP statuses are
  in `shared.infra.web.errors`).
"""
