#include "keys/libpq_library.hpp"

#include <dlfcn.h>

#include <string>

#include "keys/key_store.hpp"

namespace portico::keys::pg {
namespace {

constexpr const char* kLibrary = "libpq.so.5";

struct Loaded {
  LibPq functions{};
  std::string error;  // empty when every function was found
};

template <class Function>
void bind(void* handle, const char* name, Function& out, std::string& error) {
  void* symbol = dlsym(handle, name);
  if (symbol == nullptr && error.empty()) {
    error = std::string(kLibrary) + " has no " + name;
  }
  out = reinterpret_cast<Function>(symbol);
}

Loaded load() {
  Loaded loaded;
  // Never unloaded: its functions are used until the process ends.
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    // dlerror names the file and why (missing, or a dependency of it): no secret in it.
    const char* why = dlerror();
    loaded.error = std::string("cannot load ") + kLibrary +
                   " (Debian's libpq5): " + (why != nullptr ? why : "unknown error");
    return loaded;
  }
  LibPq& f = loaded.functions;
  std::string& e = loaded.error;
  bind(handle, "PQconninfoParse", f.conninfoParse, e);
  bind(handle, "PQconninfoFree", f.conninfoFree, e);
  bind(handle, "PQfreemem", f.freemem, e);
  bind(handle, "PQconnectdbParams", f.connectdbParams, e);
  bind(handle, "PQstatus", f.status, e);
  bind(handle, "PQerrorMessage", f.errorMessage, e);
  bind(handle, "PQreset", f.reset, e);
  bind(handle, "PQfinish", f.finish, e);
  bind(handle, "PQexec", f.exec, e);
  bind(handle, "PQexecParams", f.execParams, e);
  bind(handle, "PQresultStatus", f.resultStatus, e);
  bind(handle, "PQresultErrorField", f.resultErrorField, e);
  bind(handle, "PQclear", f.clear, e);
  bind(handle, "PQntuples", f.ntuples, e);
  bind(handle, "PQcmdTuples", f.cmdTuples, e);
  bind(handle, "PQgetvalue", f.getvalue, e);
  bind(handle, "PQgetlength", f.getlength, e);
  bind(handle, "PQgetisnull", f.getisnull, e);
  return loaded;
}

}  // namespace

const LibPq& libpq() {
  static const Loaded loaded = load();
  if (!loaded.error.empty()) {
    throw StoreError("key store: postgres: " + loaded.error);
  }
  return loaded.functions;
}

}  // namespace portico::keys::pg
