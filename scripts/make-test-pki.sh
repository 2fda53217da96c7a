#!/usr/bin/env bash
# make-test-pki.sh OUTDIR -- throwaway grid PKI for the marketplace tests (never for production).
#
# Needs: bash, openssl (3.0 or newer) and, for the VOMS files, voms-proxy-fake (Debian package
# voms-clients). Nothing is downloaded. Runs in about 3 seconds (RSA 2048 keys). Keys are random on
# every run (and so are mallory's revocation date and the VOMS proxies' serials and dates); names,
# serial numbers and all other validity dates are fixed.
#
# Fixed instants (UTC), also written to OUTDIR/fixtures.env so tests can inject "now":
#   Test CA, untrusted CA ........ 2020-01-01T00:00:00Z .. 2099-12-31T23:59:59Z
#   alice, bob, mallory, eve, AA . 2020-01-01T00:00:00Z .. 2090-01-01T00:00:00Z
#   expired ...................... 2020-01-01T00:00:00Z .. 2021-01-01T00:00:00Z
#   alice-proxy(2), bob-proxy .... 2020-01-01T00:00:00Z .. 2090-01-01T00:00:00Z
#   server, server-revoked ....... 2020-01-01T00:00:00Z .. 2090-01-01T00:00:00Z
#   alice-proxy-expired .......... 2020-01-01T00:00:00Z .. 2021-01-01T00:00:00Z
#   CRL (ca.crl.pem) ............. lastUpdate 2020-01-01T00:00:00Z, nextUpdate 2080-01-01T00:00:00Z
# The VOMS proxies are made by voms-proxy-fake relative to the moment of generation G
# (GENERATED_AT in fixtures.env): proxy valid G-1h05m .. G+47h, attribute certificate G-1h .. G+11h.
# So: everything verifies at G; "expired" is outside its validity at G (inside at 2020-06-01);
# the CRL is past its nextUpdate at 2085-01-01; the ACs (not the proxies) are expired at G+24h.
#
# Distinguished names (openssl oneline form):
#   Test CA ....... /C=EU/O=Marketplace Test Grid/CN=Marketplace Test CA
#   alice ......... /C=EU/O=Marketplace Test Grid/OU=Users/CN=Alice Example   (SAN email:alice@example.org)
#   bob ........... /C=EU/O=Marketplace Test Grid/OU=Users/CN=Bob Example     (a second good user)
#   mallory ....... /C=EU/O=Marketplace Test Grid/OU=Users/CN=Mallory Example (revoked in ca.crl.pem)
#   server ........ /C=EU/O=Marketplace Test Grid/OU=Services/CN=localhost (TLS host certificate)
#   server-revoked  /C=EU/O=Marketplace Test Grid/OU=Services/CN=revoked.localhost (revoked in ca.crl.pem)
#   expired ....... /C=EU/O=Marketplace Test Grid/OU=Users/CN=Expired Example
#   VOMS AA ....... /C=EU/O=Marketplace Test Grid/OU=Services/CN=voms.example.org
#   untrusted CA .. /C=EU/O=Untrusted Grid/CN=Untrusted CA (not in certificates/)
#   eve ........... /C=EU/O=Untrusted Grid/CN=Eve Example (issued by the untrusted CA)
#   alice-proxy ... alice's DN + /CN=1234567890;  alice-proxy2 ... alice-proxy's DN + /CN=987654321
#   bob-proxy ..... bob's DN + /CN=1122334455
#
# Output files (all PEM unless noted; every .key is an unencrypted PKCS#8 private key):
#   fixtures.env                 KEY=VALUE lines: the instants above, GENERATED_AT, VOMS=yes|no
#   ca.pem ca.key                Test CA certificate and key
#   ca.crl.pem                   CRL of the Test CA listing mallory and server-revoked (keyCompromise)
#   certificates/<hash>.0        CA directory in IGTF layout (/etc/grid-security/certificates):
#   certificates/<hash>.r0         Test CA certificate and its CRL
#   certificates-nocrl/<hash>.0  the same CA directory without any CRL
#   untrusted-ca.pem untrusted-ca.key   second CA, deliberately not in certificates/
#   alice.pem alice.key          good user (issued by the Test CA)
#   bob.pem bob.key              second good user
#   mallory.pem mallory.key      revoked user
#   expired.pem expired.key      user whose certificate expired on 2021-01-01
#   eve.pem eve.key              user of the untrusted CA
#   <user>.p12                   for alice, bob, mallory, expired, eve: modern PKCS#12 (PBES2,
#                                AES-256-CBC, HMAC-SHA256 MAC), password "secret": key, certificate
#                                and issuing CA
#   alice-legacy.p12             alice as legacy PKCS#12 (PBE-SHA1-RC2-40 certs, PBE-SHA1-3DES key,
#                                SHA-1 MAC), password "secret"
#   alice-proxy.pem              RFC 3820 proxy of alice, grid proxy-file layout: proxy certificate,
#                                proxy key, alice's certificate
#   alice-proxy.key              the proxy key alone
#   alice-proxy2.pem             proxy of alice-proxy: proxy2 certificate, proxy2 key, alice-proxy
#                                certificate, alice's certificate
#   alice-proxy2.key             the proxy2 key alone
#   bob-proxy.pem bob-proxy.key  RFC 3820 proxy of bob (same layout as alice-proxy.pem)
#   alice-proxy-expired.pem      proxy of alice (same layout) that expired on 2021-01-01
#   alice-proxy-expired.key      its key alone
#   server.pem server.key        TLS host certificate of the Test CA for loopback servers:
#                                CN=localhost, subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1,
#                                extendedKeyUsage serverAuth (and clientAuth, as IGTF host certs)
#   server-chain.pem             server.pem followed by ca.pem
#   server-revoked.pem server-revoked.key   the same for CN=revoked.localhost, revoked in ca.crl.pem
#   aa.pem aa.key                VOMS attribute-authority (AA) certificate voms.example.org, Test CA
#   forged-aa.key                a key that is not the AA's (used to forge an AC)
#   vomsdir/testvo/voms.example.org.lsc   vomsdir entry: AA subject, then its issuer (oneline DNs)
#   The following only when voms-proxy-fake is available (VOMS=yes in fixtures.env):
#   alice-voms.pem               VOMS proxy of alice (grid proxy-file layout), VO testvo, AA
#                                voms.example.org:15000, FQANs /testvo/Role=NULL/Capability=NULL and
#                                /testvo/Role=endorser/Capability=NULL, generic attribute
#                                email=alice@example.org
#   alice-voms-forged.pem        like alice-voms.pem, but the AC is signed with forged-aa.key while it
#                                still embeds the genuine AA certificate
#   alice-voms-othervo.pem       VOMS proxy for VO othervo (no vomsdir entry) from the same AA
#   alice-voms-newformat.pem     like alice-voms.pem, with an RFC 5755 "new format" AC (holder names
#                                alice's issuer; the default "old format" names alice's subject)
#   Scratch files (requests, openssl ca databases) are left in OUTDIR/work/.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
command -v openssl >/dev/null || { echo "make-test-pki.sh: openssl not found" >&2; exit 1; }
if command -v voms-proxy-fake >/dev/null; then VOMS=yes; else VOMS=no; fi

mkdir -p "$1"
OUT=$(cd "$1" && pwd)
W="$OUT/work"
rm -rf "$W" "$OUT/certificates" "$OUT/certificates-nocrl" "$OUT/vomsdir"
mkdir -p "$W" "$OUT/certificates" "$OUT/certificates-nocrl" "$OUT/vomsdir/testvo"
cd "$W"
export RANDFILE="$W/.rnd"
GENERATED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)

BASE="/C=EU/O=Marketplace Test Grid"
CA_DN="$BASE/CN=Marketplace Test CA"
AA_DN="$BASE/OU=Services/CN=voms.example.org"
UCA_DN="/C=EU/O=Untrusted Grid/CN=Untrusted CA"

# --- openssl ca configuration: one database per issuer -----------------------------------------
cat > ca.cnf <<'EOF'
[ ca ]
default_ca = testca
[ testca ]
dir = ./testca
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
[ untrustedca ]
dir = ./untrustedca
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
[ proxies ]
dir = ./proxies
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = anything
unique_subject = no
email_in_dn = no
[ anything ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_user ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment
extendedKeyUsage = clientAuth,emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_user_email ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment
extendedKeyUsage = clientAuth,emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:alice@example.org
[ v3_aa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:voms.example.org
[ v3_server ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
[ v3_proxy ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
proxyCertInfo = critical,language:id-ppl-inheritAll
EOF
for d in testca untrustedca proxies; do
    mkdir -p "$d"
    : > "$d/index.txt"
    echo 1000 > "$d/serial"
done
echo 01 > testca/crlnumber

CA_START=20200101000000Z
CA_END=20991231235959Z
USER_START=20200101000000Z
USER_END=20900101000000Z
EXPIRED_END=20210101000000Z
CRL_LAST=20200101000000Z
CRL_NEXT=20800101000000Z

newkey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }
# csr KEY SUBJECT OUT
csr() { openssl req -new -key "$1" -subj "$2" -out "$3"; }
# sign SECTION ISSUER_CERT ISSUER_KEY CSR OUT EXTENSIONS START END [SERIAL_HEX]
sign() {
    local name=$1 cacert=$2 cakey=$3 in=$4 out=$5 ext=$6 start=$7 end=$8
    [ $# -ge 9 ] && echo "$9" > "$name/serial"
    openssl ca -batch -notext -preserveDN -config ca.cnf -name "$name" -cert "$cacert" \
        -keyfile "$cakey" -in "$in" -out "$out" -extensions "$ext" \
        -startdate "$start" -enddate "$end" 2>/dev/null
}
# selfsign SECTION KEY SUBJECT OUT
selfsign() {
    csr "$2" "$3" "$1.csr"
    openssl ca -batch -notext -preserveDN -selfsign -config ca.cnf -name "$1" -keyfile "$2" \
        -in "$1.csr" -out "$4" -extensions v3_ca -startdate "$CA_START" -enddate "$CA_END" 2>/dev/null
}

# --- CAs ------------------------------------------------------------------------------------------
newkey "$OUT/ca.key"
selfsign testca "$OUT/ca.key" "$CA_DN" "$OUT/ca.pem"
newkey "$OUT/untrusted-ca.key"
selfsign untrustedca "$OUT/untrusted-ca.key" "$UCA_DN" "$OUT/untrusted-ca.pem"

# --- users and the VOMS AA --------------------------------------------------------------------------
# user NAME CN EXTENSIONS END [ISSUER]
user() {
    local name=$1 cn=$2 ext=$3 end=$4 issuer=${5:-testca}
    local cacert="$OUT/ca.pem" cakey="$OUT/ca.key" base="$BASE/OU=Users"
    if [ "$issuer" = untrustedca ]; then
        cacert="$OUT/untrusted-ca.pem" cakey="$OUT/untrusted-ca.key" base="/C=EU/O=Untrusted Grid"
    fi
    newkey "$OUT/$name.key"
    csr "$OUT/$name.key" "$base/CN=$cn" "$name.csr"
    sign "$issuer" "$cacert" "$cakey" "$name.csr" "$OUT/$name.pem" "$ext" "$USER_START" "$end"
    openssl pkcs12 -export -in "$OUT/$name.pem" -inkey "$OUT/$name.key" -certfile "$cacert" \
        -name "$name" -passout pass:secret -out "$OUT/$name.p12"
}
user alice "Alice Example" v3_user_email "$USER_END"
user bob "Bob Example" v3_user "$USER_END"
user mallory "Mallory Example" v3_user "$USER_END"
user expired "Expired Example" v3_user "$EXPIRED_END"
user eve "Eve Example" v3_user "$USER_END" untrustedca
openssl pkcs12 -export -legacy -certpbe PBE-SHA1-RC2-40 -keypbe PBE-SHA1-3DES -macalg sha1 \
    -in "$OUT/alice.pem" -inkey "$OUT/alice.key" -certfile "$OUT/ca.pem" -name alice \
    -passout pass:secret -out "$OUT/alice-legacy.p12"

newkey "$OUT/aa.key"
csr "$OUT/aa.key" "$AA_DN" aa.csr
sign testca "$OUT/ca.pem" "$OUT/ca.key" aa.csr "$OUT/aa.pem" v3_aa "$USER_START" "$USER_END"
newkey "$OUT/forged-aa.key"

# --- TLS host certificates for loopback servers (server.pem; server-revoked.pem is revoked) -------------
# host NAME CN
host() {
    newkey "$OUT/$1.key"
    csr "$OUT/$1.key" "$BASE/OU=Services/CN=$2" "$1.csr"
    sign testca "$OUT/ca.pem" "$OUT/ca.key" "$1.csr" "$OUT/$1.pem" v3_server "$USER_START" "$USER_END"
}
host server localhost
host server-revoked revoked.localhost
cat "$OUT/server.pem" "$OUT/ca.pem" > "$OUT/server-chain.pem"

# --- CRL and the CA directories -----------------------------------------------------------------------
openssl ca -config ca.cnf -name testca -cert "$OUT/ca.pem" -keyfile "$OUT/ca.key" \
    -revoke "$OUT/mallory.pem" -crl_reason keyCompromise 2>/dev/null
openssl ca -config ca.cnf -name testca -cert "$OUT/ca.pem" -keyfile "$OUT/ca.key" \
    -revoke "$OUT/server-revoked.pem" -crl_reason keyCompromise 2>/dev/null
openssl ca -config ca.cnf -name testca -cert "$OUT/ca.pem" -keyfile "$OUT/ca.key" -gencrl \
    -crl_lastupdate "$CRL_LAST" -crl_nextupdate "$CRL_NEXT" -out "$OUT/ca.crl.pem" 2>/dev/null
HASH=$(openssl x509 -hash -noout -in "$OUT/ca.pem")
cp "$OUT/ca.pem" "$OUT/certificates/$HASH.0"
cp "$OUT/ca.crl.pem" "$OUT/certificates/$HASH.r0"
cp "$OUT/ca.pem" "$OUT/certificates-nocrl/$HASH.0"

# --- RFC 3820 proxies -----------------------------------------------------------------------------------
# proxy ISSUER_NAME OUT_NAME SERIAL_DECIMAL [END]; writes OUT.pem (proxy file) and OUT.key
proxy() {
    local issuer=$1 name=$2 serial=$3 end=${4:-$USER_END}
    local subject
    subject=$(openssl x509 -noout -subject -nameopt compat -in "$W/$issuer.cert.pem" | sed 's/^subject=//')
    newkey "$OUT/$name.key"
    csr "$OUT/$name.key" "$subject/CN=$serial" "$name.csr"
    sign proxies "$W/$issuer.cert.pem" "$OUT/$issuer.key" "$name.csr" "$name.cert.pem" v3_proxy \
        "$USER_START" "$end" "$(printf '%X' "$serial")"
    cat "$name.cert.pem" "$OUT/$name.key" "$W/$issuer.chain.pem" > "$OUT/$name.pem"
    cat "$name.cert.pem" "$W/$issuer.chain.pem" > "$name.chain.pem"
}
for u in alice bob; do
    cp "$OUT/$u.pem" "$u.cert.pem"
    cp "$OUT/$u.pem" "$u.chain.pem"
done
proxy alice alice-proxy 1234567890
proxy alice-proxy alice-proxy2 987654321
proxy bob bob-proxy 1122334455
proxy alice alice-proxy-expired 1357924680 "$EXPIRED_END"

# --- vomsdir and VOMS proxies ---------------------------------------------------------------------------
printf '%s\n%s\n' "$AA_DN" "$CA_DN" > "$OUT/vomsdir/testvo/voms.example.org.lsc"
rm -f "$OUT"/alice-voms*.pem
# vomsproxy OUT VO AA_KEY [EXTRA_OPTION]
vomsproxy() {
    voms-proxy-fake ${4:-} -q -cert "$OUT/alice.pem" -key "$OUT/alice.key" -certdir "$OUT/certificates" \
        -hostcert "$OUT/aa.pem" -hostkey "$3" -voms "$2" -uri voms.example.org:15000 \
        -fqan "/$2/Role=NULL/Capability=NULL" -fqan "/$2/Role=endorser/Capability=NULL" \
        -ga "email=alice@example.org" -rfc -hours 48 -vomslife 12 -pastproxy 01:00 -pastac 01:00 \
        -out "$OUT/$1" >/dev/null 2>voms-proxy-fake.log ||
        { cat voms-proxy-fake.log >&2; exit 1; }
}
if [ "$VOMS" = yes ]; then
    vomsproxy alice-voms.pem testvo "$OUT/aa.key"
    vomsproxy alice-voms-forged.pem testvo "$OUT/forged-aa.key"
    vomsproxy alice-voms-othervo.pem othervo "$OUT/aa.key"
    vomsproxy alice-voms-newformat.pem testvo "$OUT/aa.key" -newformat
else
    echo "make-test-pki.sh: voms-proxy-fake not found (Debian package voms-clients); no VOMS proxies" >&2
fi

cat > "$OUT/fixtures.env" <<EOF
GENERATED_AT=$GENERATED_AT
VOMS=$VOMS
CA_NOT_BEFORE=2020-01-01T00:00:00Z
CA_NOT_AFTER=2099-12-31T23:59:59Z
USER_NOT_BEFORE=2020-01-01T00:00:00Z
USER_NOT_AFTER=2090-01-01T00:00:00Z
EXPIRED_NOT_BEFORE=2020-01-01T00:00:00Z
EXPIRED_NOT_AFTER=2021-01-01T00:00:00Z
CRL_LAST_UPDATE=2020-01-01T00:00:00Z
CRL_NEXT_UPDATE=2080-01-01T00:00:00Z
VOMS_PROXY_HOURS=48
VOMS_AC_HOURS=12
VOMS_BACKDATE_SECONDS=3600
EOF
