#!/usr/bin/env bash
# Regenerates the test-only CA and the localhost server certificate it signs (valid 100 years).
# Test data only: these keys protect nothing.
set -euo pipefail
cd "$(dirname "$0")"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 36500 \
  -subj "/CN=Portico Test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
  -days 36500 -extfile server.ext
rm -f server.csr server.ext ca.srl
# A certificate from the same CA for another name, to check host-name verification.
openssl req -newkey rsa:2048 -nodes -keyout wrong-name.key -out wrong-name.csr -subj "/CN=wrong.example"
printf 'subjectAltName=DNS:wrong.example\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > wrong-name.ext
openssl x509 -req -in wrong-name.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out wrong-name.pem \
  -days 36500 -extfile wrong-name.ext
rm -f wrong-name.csr wrong-name.ext ca.srl
