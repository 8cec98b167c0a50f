#include "keys/key_runtime.hpp"

#include "keys/admin_api.hpp"
#include "keys/key_index.hpp"
#include "keys/key_keeper.hpp"
#include "keys/key_service.hpp"
#include "keys/price_table.hpp"
#include "keys/usage_recorder.hpp"
#include "keys/virtual_key_gate.hpp"

namespace portico::keys {

struct KeyRuntime::Parts {
  Parts(const KeySettings& settings, const ProviderRegistry& registry)
      : store(openKeyStore(settings.store, settings.data_dir)),
        master(MasterKey::load(settings.master_key_file)),
        catalog(registry.settingsCatalog()),
        prices(settings.prices_file.empty() ? PriceTable::builtIn()
                                            : PriceTable::withOverrides(settings.prices_file)),
        index(*store, master),
        keeper(*store, index, usage),
        gate(index,
             prices,
             usage,
             settings.require_virtual_keys,
             settings.shared_limits,
             settings.redis_health),
        service(*store, *catalog, registry.ids(), master),
        admin_token(settings.admin_token) {
    index.reload(/*strict=*/true);  // refuses to start when secrets do not open
    if (!admin_token.empty()) {
      // The change is in the index before the admin API answers: a client that just created
      // (or disabled) a key sees it on its next request. reload() is serialised with the
      // keeper's own.
      admin = std::make_unique<AdminApi>(service, admin_token,
                                         [this] { index.reload(/*strict=*/false); });
    }
    keeper.start();
  }

  std::unique_ptr<KeyStore> store;
  std::optional<MasterKey> master;
  std::shared_ptr<const SettingsCatalog> catalog;
  PriceTable prices;
  UsageRecorder usage;
  KeyIndex index;
  KeyKeeper keeper;
  VirtualKeyGate gate;
  KeyService service;
  std::string admin_token;
  std::unique_ptr<AdminApi> admin;
};

KeyRuntime::KeyRuntime(const KeySettings& settings, const ProviderRegistry& registry)
    : parts_(std::make_unique<Parts>(settings, registry)) {}

KeyRuntime::~KeyRuntime() { stop(); }

void KeyRuntime::stop() { parts_->keeper.stop(); }

std::size_t KeyRuntime::keyCount() const { return parts_->index.size(); }

std::function<AdminReply(const AdminCall&)> KeyRuntime::adminHandler() const {
  const AdminApi* admin = parts_->admin.get();
  if (admin == nullptr) {
    return {};
  }
  return [admin](const AdminCall& call) {
    AdminAnswer answer =
        admin->handle(call.method, call.path, call.query, call.authorization, call.body);
    return AdminReply{answer.status,
                      answer.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  };
}

void KeyRuntime::attach(ServerOptions& options) const {
  options.virtual_keys = &parts_->gate;
  options.admin = adminHandler();
}

}  // namespace portico::keys
