"""Monthly restore-test certificates an insurer can verify.

The flow, top-down: `evidence` gathers every fact of a month from the database (one JSON-ready dict);
`render` turns it into HTML (Jinja2 templates in templates/certificate/) and PDF (WeasyPrint);
`signing` hashes the files into an in-toto statement inside a DSSE envelope signed with Ed25519
(`keys`); `issue` ties these together and records the certificate in a hash chain; `verify` checks
all of it again. `chain` seals every finished run into a hash chain in the database, so a record
changed or deleted afterwards shows. `delivery` is the daemon's monthly task.

Nothing heavy is imported here: the run-finished hook only needs `chain`.
"""
