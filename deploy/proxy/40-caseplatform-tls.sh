#!/bin/sh
# Run by the nginx image's entrypoint (/docker-entrypoint.d/) after the templates are
# rendered: the TLS server (tls.conf) is enabled when a certificate and its key are mounted
# in /etc/nginx/tls, and left out otherwise, so the plain-HTTP server works without one.
# The three paths can be changed for tests (tests/unit/test_compose_hardening.py).
set -eu
tls_dir=${CASEPLATFORM_TLS_DIR:-/etc/nginx/tls}
server=${CASEPLATFORM_TLS_SERVER:-/etc/nginx/caseplatform/tls.conf}
enabled=${CASEPLATFORM_TLS_ENABLED:-/etc/nginx/conf.d/caseplatform-tls.conf}
if [ -s "$tls_dir/cert.pem" ] && [ -s "$tls_dir/key.pem" ]; then
    cp "$server" "$enabled"
    echo "$0: TLS on 8443 with $tls_dir/cert.pem" >&2
else
    rm -f "$enabled"
    if [ -e "$tls_dir/cert.pem" ] || [ -e "$tls_dir/key.pem" ]; then
        echo "$0: $tls_dir needs both cert.pem and key.pem (neither empty): TLS stays off" >&2
    fi
fi
