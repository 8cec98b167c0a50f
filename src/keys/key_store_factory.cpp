#include <string_view>

#include "keys/key_store.hpp"

namespace portico::keys {

std::unique_ptr<KeyStore> openKeyStore(const std::string& store,
                                       const std::filesystem::path& data_dir) {
  if (store.empty() || store == "sqlite") {
    return openSqliteKeyStore(data_dir);
  }
  if (store.starts_with("postgres://") || store.starts_with("postgresql://")) {
    return openPostgresKeyStore(store);
  }
  // `store` is not echoed: a mistyped scheme may still carry a password.
  throw StoreError("--store must be sqlite or a postgres:// URL");
}

}  // namespace portico::keys
