#pragma once

#include <libpq-fe.h>

// libpq, loaded when a Postgres key store is first opened instead of at start-up: libpq and
// what it pulls in (Kerberos, LDAP, SASL, GnuTLS, p11-kit: twenty libraries) are 3.4 MiB of
// resident pages that a gateway on the embedded store, the default, never uses. Its header
// gives the types and signatures; the functions come from libpq.so.5 (Debian's libpq5).
namespace portico::keys::pg {

struct LibPq {
  decltype(&::PQconninfoParse) conninfoParse;
  decltype(&::PQconninfoFree) conninfoFree;
  decltype(&::PQfreemem) freemem;
  decltype(&::PQconnectdbParams) connectdbParams;
  decltype(&::PQstatus) status;
  decltype(&::PQerrorMessage) errorMessage;
  decltype(&::PQreset) reset;
  decltype(&::PQfinish) finish;
  decltype(&::PQexec) exec;
  decltype(&::PQexecParams) execParams;
  decltype(&::PQresultStatus) resultStatus;
  decltype(&::PQresultErrorField) resultErrorField;
  decltype(&::PQclear) clear;
  decltype(&::PQntuples) ntuples;
  decltype(&::PQcmdTuples) cmdTuples;
  decltype(&::PQgetvalue) getvalue;
  decltype(&::PQgetlength) getlength;
  decltype(&::PQgetisnull) getisnull;
};

// Loads libpq once (thread-safe) and returns its functions. Throws StoreError saying which
// library is missing when it cannot be loaded or lacks a function.
const LibPq& libpq();

}  // namespace portico::keys::pg
