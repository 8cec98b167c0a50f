#include "keys/keys_cli.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "keys/key_service.hpp"
#include "keys/key_store.hpp"
#include "keys/secret_box.hpp"
#include "portico/json_parse.hpp"

namespace portico::keys {
namespace {

using nlohmann::json;

constexpr std::string_view kUsage = R"(usage: portico keys <verb> [options]

verbs:
  create --name NAME --provider ID [--api-key-stdin | --api-key-file F] [key options]
  list [--json]
  show REF [--json]
  update REF [key options] [--enable | --disable] [--no-budget]
  rotate REF            a new pk- key for REF; the old one stops working
  enable REF | disable REF | delete REF
  usage [REF] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
  rekey --new-master-key-file F

key options:
  --custom-host URL  --models a,b*  --rpm N  --tpm N
  --budget-usd X  --budget-tokens N  --budget-period day|month|total
  --field NAME=VALUE (repeatable; secret settings: --field-stdin NAME or --field-file NAME=PATH)
  --expires YYYY-MM-DD|never  --config-file F

every verb:
  --store sqlite|URL (else PORTICO_STORE, else sqlite): a postgres:// or postgresql:// URL
      works on a shared Postgres store (a password in the URL shows in ps: prefer
      PORTICO_STORE, PGPASSWORD or ~/.pgpass)
  --data-dir DIR (else PORTICO_DATA_DIR, else ./data): where sqlite keeps portico.db
  --master-key-file F (else PORTICO_MASTER_KEY)

REF is a key id (vk_...) or a name. Secrets are never read from the command line.
)";

// A mistake in the command line itself: exit code 2, with the usage text.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// A refusal (invalid value, unknown key, store failure): exit code 1.
struct Refused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class OptionKind { kFlag, kValue, kRepeated };

const std::map<std::string, OptionKind, std::less<>>& optionKinds() {
  static const std::map<std::string, OptionKind, std::less<>> kKinds = {
      {"--api-key-stdin", OptionKind::kFlag},
      {"--json", OptionKind::kFlag},
      {"--enable", OptionKind::kFlag},
      {"--disable", OptionKind::kFlag},
      {"--no-budget", OptionKind::kFlag},
      {"--field", OptionKind::kRepeated},
      {"--field-stdin", OptionKind::kRepeated},
      {"--field-file", OptionKind::kRepeated},
      {"--name", OptionKind::kValue},
      {"--provider", OptionKind::kValue},
      {"--api-key-file", OptionKind::kValue},
      {"--custom-host", OptionKind::kValue},
      {"--models", OptionKind::kValue},
      {"--rpm", OptionKind::kValue},
      {"--tpm", OptionKind::kValue},
      {"--budget-usd", OptionKind::kValue},
      {"--budget-tokens", OptionKind::kValue},
      {"--budget-period", OptionKind::kValue},
      {"--expires", OptionKind::kValue},
      {"--config-file", OptionKind::kValue},
      {"--data-dir", OptionKind::kValue},
      {"--store", OptionKind::kValue},
      {"--master-key-file", OptionKind::kValue},
      {"--from", OptionKind::kValue},
      {"--to", OptionKind::kValue},
      {"--new-master-key-file", OptionKind::kValue}};
  return kKinds;
}

// The command line, sorted out.
struct Args {
  std::string verb;
  std::vector<std::string> positionals;
  std::map<std::string, std::string, std::less<>> values;
  std::vector<std::pair<std::string, std::string>> repeated;  // in the order given
  std::vector<std::string> flags;

  bool flag(std::string_view name) const {
    return std::find(flags.begin(), flags.end(), name) != flags.end();
  }
  const std::string* value(std::string_view name) const {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  }
};

struct Context;
using VerbRunner = int (*)(Context&, KeyService&);

struct Verb {
  std::size_t min_positionals = 0;
  std::size_t max_positionals = 0;
  std::vector<std::string_view> options;  // beyond --store, --data-dir and --master-key-file
  VerbRunner run = nullptr;
};

struct Context {
  const Args& args;
  const SettingsCatalog& catalog;
  std::istream& in;
  std::ostream& out;
  bool stdin_used = false;
};

// ---- reading values ------------------------------------------------------------------------

std::string trimOneNewline(std::string text) {
  if (!text.empty() && text.back() == '\n') {
    text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
  }
  return text;
}

std::string readStdin(Context& ctx, std::string_view option) {
  if (ctx.stdin_used)
    throw UsageError("stdin can feed one value only (" + std::string(option) + ")");
  ctx.stdin_used = true;
  return trimOneNewline(
      std::string(std::istreambuf_iterator<char>(ctx.in), std::istreambuf_iterator<char>()));
}

std::string readFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Refused("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

std::int64_t wholeNumber(std::string_view option, const std::string& text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError(std::string(option) + " needs a whole number, not '" + text + "'");
  }
  return value;
}

double decimalNumber(std::string_view option, const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    throw UsageError(std::string(option) + " needs a number, not '" + text + "'");
  }
  return value;
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

template <class T>
T orRefuse(Expected<T> result) {
  if (!result) {
    const json& body = result.error().body;
    throw Refused(body.is_object() ? body.value("message", "refused") : "refused");
  }
  return std::move(*result);
}

// ---- options to a KeySpec ------------------------------------------------------------------

std::pair<std::string, std::string> splitPair(std::string_view option, const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw UsageError(std::string(option) + " needs NAME=VALUE, not '" + text + "'");
  }
  return {text.substr(0, eq), text.substr(eq + 1)};
}

// A setting's text as the JSON value the service checks: service-account JSON is an object;
// an empty text is null (removes the setting on update).
json fieldValue(const SettingsCatalog& catalog, const std::string& name, const std::string& text) {
  if (text.empty()) return nullptr;
  const SettingsCatalog::Field* field = catalog.field(name);
  if (field != nullptr && field->type == SettingType::kStringMap) {
    json parsed = parseJson(text);
    if (!parsed.is_object()) throw Refused(name + ": expected a JSON object");
    return parsed;
  }
  return text;
}

json fieldsFromArgs(Context& ctx) {
  json fields = json::object();
  for (const auto& [option, text] : ctx.args.repeated) {
    std::string name;
    std::string value;
    if (option == "--field") {
      std::tie(name, value) = splitPair(option, text);
      if (name == "api_key") throw UsageError("pass the api key with --api-key-stdin");
      if (ctx.catalog.isSecret(name)) {
        throw UsageError(name + " is a secret: pass it with --field-stdin " + name +
                         " or --field-file " + name + "=PATH, not on the command line");
      }
    } else if (option == "--field-stdin") {
      name = text;
      value = readStdin(ctx, option);
    } else {
      std::string path;
      std::tie(name, path) = splitPair(option, text);
      value = trimOneNewline(readFile(path));
    }
    fields[name] = fieldValue(ctx.catalog, name, value);
  }
  return fields;
}

std::optional<std::string> apiKeyFromArgs(Context& ctx) {
  const std::string* file = ctx.args.value("--api-key-file");
  if (ctx.args.flag("--api-key-stdin")) {
    if (file != nullptr) throw UsageError("give --api-key-stdin or --api-key-file, not both");
    return readStdin(ctx, "--api-key-stdin");
  }
  if (file != nullptr) return trimOneNewline(readFile(*file));
  return std::nullopt;
}

BudgetPeriod periodFrom(const std::string& text) {
  if (auto period = periodFromName(text)) return *period;
  throw UsageError("--budget-period is day, month or total, not '" + text + "'");
}

// The budget options on top of `base` (the key's budget on update), when any is given.
std::optional<Budget> budgetFromArgs(const Args& args, Budget base) {
  if (args.flag("--no-budget")) return Budget{};
  const std::string* usd = args.value("--budget-usd");
  const std::string* tokens = args.value("--budget-tokens");
  const std::string* period = args.value("--budget-period");
  if (usd == nullptr && tokens == nullptr && period == nullptr) return std::nullopt;
  if (usd != nullptr) base.usd = decimalNumber("--budget-usd", *usd);
  if (tokens != nullptr) base.tokens = wholeNumber("--budget-tokens", *tokens);
  if (period != nullptr) base.period = periodFrom(*period);
  if (base.empty()) throw UsageError("--budget-period needs --budget-usd or --budget-tokens");
  return base;
}

std::optional<std::int64_t> expiryFrom(const std::string& text) {
  if (text == "never") return std::nullopt;
  if (!text.empty() &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return wholeNumber("--expires", text);
  }
  auto seconds = parseDate(text);
  if (!seconds) throw UsageError("--expires needs YYYY-MM-DD, unix seconds or never");
  return seconds;
}

std::optional<json> configFromArgs(const Args& args) {
  const std::string* path = args.value("--config-file");
  if (path == nullptr) return std::nullopt;
  json config = parseJson(readFile(*path));
  if (config.is_discarded()) throw Refused(*path + " is not valid JSON");
  return config;
}

void copyString(const Args& args, std::string_view option, std::optional<std::string>& to) {
  if (const std::string* v = args.value(option)) to = *v;
}

KeySpec specFromArgs(Context& ctx, const Budget& base_budget) {
  const Args& args = ctx.args;
  KeySpec spec;
  copyString(args, "--name", spec.name);
  copyString(args, "--provider", spec.provider);
  copyString(args, "--custom-host", spec.custom_host);
  spec.api_key = apiKeyFromArgs(ctx);
  if (const std::string* v = args.value("--models")) spec.models = splitList(*v);
  if (const std::string* v = args.value("--rpm")) spec.rpm = wholeNumber("--rpm", *v);
  if (const std::string* v = args.value("--tpm")) spec.tpm = wholeNumber("--tpm", *v);
  spec.budget = budgetFromArgs(args, base_budget);
  if (const std::string* v = args.value("--expires")) spec.expires_at = expiryFrom(*v);
  spec.config = configFromArgs(args);
  if (!args.repeated.empty()) spec.fields = fieldsFromArgs(ctx);
  if (args.flag("--enable") && args.flag("--disable")) {
    throw UsageError("give --enable or --disable, not both");
  }
  if (args.flag("--enable") || args.flag("--disable")) spec.enabled = args.flag("--enable");
  return spec;
}

// ---- output --------------------------------------------------------------------------------

std::string formatTime(std::int64_t unix_seconds) {
  using namespace std::chrono;
  const sys_seconds at{seconds(unix_seconds)};
  const auto day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss time{at - day};
  char text[64];  // room for any year gcc can imagine, so -Wformat-truncation stays quiet
  if (time.to_duration().count() == 0) {
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  } else {
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ",
                  static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                  static_cast<unsigned>(date.day()), static_cast<long>(time.hours().count()),
                  static_cast<long>(time.minutes().count()),
                  static_cast<long>(time.seconds().count()));
  }
  return text;
}

std::string formatBudget(const Budget& budget) {
  if (budget.empty()) return "-";
  std::ostringstream text;
  if (budget.usd) text << "$" << *budget.usd;
  if (budget.usd && budget.tokens) text << "+";
  if (budget.tokens) text << *budget.tokens << "tok";
  text << "/" << periodName(budget.period);
  return text.str();
}

std::string limit(std::int64_t n) { return n == 0 ? "-" : std::to_string(n); }

void printTable(std::ostream& out,
                const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  const auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      text += cells[i];
      if (i + 1 < cells.size()) text += std::string(widths[i] - cells[i].size() + 2, ' ');
    }
    out << text << "\n";
  };
  line(header);
  for (const auto& row : rows) line(row);
}

std::string label(const KeyRecord& record) { return record.name + " (" + record.id + ")"; }

const std::string& ref(const Context& ctx) { return ctx.args.positionals.at(0); }

// ---- verbs ---------------------------------------------------------------------------------

int createVerb(Context& ctx, KeyService& service) {
  const KeySpec spec = specFromArgs(ctx, Budget{});
  if (!spec.name) throw UsageError("create needs --name");
  if (!spec.provider) throw UsageError("create needs --provider");
  const auto created = orRefuse(service.create(spec));
  ctx.out << "Created virtual key " << label(created.record) << " for " << created.record.provider
          << ".\n"
          << "The key is shown this once; store it now:\n"
          << created.key << "\n";
  return 0;
}

int listVerb(Context& ctx, KeyService& service) {
  const auto records = service.list();
  if (ctx.args.flag("--json")) {
    json data = json::array();
    for (const KeyRecord& record : records) data.push_back(keyView(record));
    ctx.out << data.dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const KeyRecord& r : records) {
    rows.push_back({r.id, r.name, r.provider, r.key_prefix, r.enabled ? "yes" : "no", limit(r.rpm),
                    limit(r.tpm), formatBudget(r.budget),
                    r.expires_at ? formatTime(*r.expires_at) : "-"});
  }
  printTable(ctx.out,
             {"ID", "NAME", "PROVIDER", "PREFIX", "ENABLED", "RPM", "TPM", "BUDGET", "EXPIRES"},
             rows);
  return 0;
}

int showVerb(Context& ctx, KeyService& service) {
  const KeyRecord record = orRefuse(service.get(ref(ctx)));
  const json view = keyView(record);
  if (ctx.args.flag("--json")) {
    ctx.out << view.dump(2) << "\n";
    return 0;
  }
  static const char* const kOrder[] = {"id",          "name",        "provider",      "key_prefix",
                                       "enabled",     "has_secrets", "master_key_id", "fields",
                                       "custom_host", "models",      "rpm",           "tpm",
                                       "budget",      "expires_at",  "config",        "metadata",
                                       "created_at",  "updated_at"};
  for (const char* member : kOrder) {
    const json& v = view.at(member);
    ctx.out << member << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
  }
  return 0;
}

int updateVerb(Context& ctx, KeyService& service) {
  const KeyRecord current = orRefuse(service.get(ref(ctx)));
  const KeySpec spec = specFromArgs(ctx, current.budget);
  const KeyRecord updated = orRefuse(service.update(current.id, spec));
  ctx.out << "Updated " << label(updated) << ".\n";
  return 0;
}

int setEnabled(Context& ctx, KeyService& service, bool enabled) {
  KeySpec spec;
  spec.enabled = enabled;
  const KeyRecord updated = orRefuse(service.update(ref(ctx), spec));
  ctx.out << (enabled ? "Enabled " : "Disabled ") << label(updated) << ".\n";
  return 0;
}

int enableVerb(Context& ctx, KeyService& service) { return setEnabled(ctx, service, true); }
int disableVerb(Context& ctx, KeyService& service) { return setEnabled(ctx, service, false); }

int rotateVerb(Context& ctx, KeyService& service) {
  const auto rotated = orRefuse(service.rotate(ref(ctx)));
  ctx.out << "Rotated " << label(rotated.record) << ": the old key stops working.\n"
          << "The key is shown this once; store it now:\n"
          << rotated.key << "\n";
  return 0;
}

int deleteVerb(Context& ctx, KeyService& service) {
  const KeyRecord record = orRefuse(service.get(ref(ctx)));
  orRefuse(service.remove(record.id));
  ctx.out << "Deleted " << label(record) << " and its usage.\n";
  return 0;
}

std::string money(double usd) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6f", usd);
  return text;
}

int usageVerb(Context& ctx, KeyService& service) {
  const std::string key = ctx.args.positionals.empty() ? "" : ref(ctx);
  const std::string* from = ctx.args.value("--from");
  const std::string* to = ctx.args.value("--to");
  const auto rows = orRefuse(service.usage(key, from ? *from : "", to ? *to : ""));
  if (ctx.args.flag("--json")) {
    ctx.out << usageView(rows).dump(2) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> table;
  for (const UsageRow& r : rows) {
    table.push_back({r.key_id, r.day, r.model, std::to_string(r.requests),
                     std::to_string(r.prompt_tokens), std::to_string(r.completion_tokens),
                     std::to_string(r.cached_tokens), money(r.cost_usd)});
  }
  printTable(ctx.out,
             {"KEY", "DAY", "MODEL", "REQUESTS", "PROMPT", "COMPLETION", "CACHED", "COST_USD"},
             table);
  return 0;
}

int rekeyVerb(Context& ctx, KeyService& service) {
  const std::string* path = ctx.args.value("--new-master-key-file");
  if (path == nullptr) throw UsageError("rekey needs --new-master-key-file F");
  const MasterKey next = MasterKey::fromFile(*path);
  const int count = orRefuse(service.rekey(next));
  ctx.out << "Re-sealed " << count << " key(s) under master key " << next.id()
          << ". Use the new master key from now on.\n";
  return 0;
}

const std::map<std::string, Verb, std::less<>>& verbs() {
  static const std::vector<std::string_view> kKeyOptions = {
      "--name",        "--provider",      "--api-key-stdin", "--api-key-file",
      "--custom-host", "--models",        "--rpm",           "--tpm",
      "--budget-usd",  "--budget-tokens", "--budget-period", "--field",
      "--field-stdin", "--field-file",    "--expires",       "--config-file"};
  static const std::vector<std::string_view> kUpdateOptions = [] {
    std::vector<std::string_view> options = kKeyOptions;
    options.insert(options.end(), {"--enable", "--disable", "--no-budget"});
    return options;
  }();
  static const std::map<std::string, Verb, std::less<>> kVerbs = {
      {"create", {0, 0, kKeyOptions, createVerb}},
      {"list", {0, 0, {"--json"}, listVerb}},
      {"show", {1, 1, {"--json"}, showVerb}},
      {"update", {1, 1, kUpdateOptions, updateVerb}},
      {"rotate", {1, 1, {}, rotateVerb}},
      {"enable", {1, 1, {}, enableVerb}},
      {"disable", {1, 1, {}, disableVerb}},
      {"delete", {1, 1, {}, deleteVerb}},
      {"usage", {0, 1, {"--from", "--to", "--json"}, usageVerb}},
      {"rekey", {0, 0, {"--new-master-key-file"}, rekeyVerb}}};
  return kVerbs;
}

// ---- the command line ----------------------------------------------------------------------

bool allowed(const Verb& verb, std::string_view option) {
  return option == "--store" || option == "--data-dir" || option == "--master-key-file" ||
         std::find(verb.options.begin(), verb.options.end(), option) != verb.options.end();
}

// One "--option" (or "--option=value") at args[i]; advances i past its value.
void takeOption(const std::vector<std::string>& argv,
                std::size_t& i,
                const Verb& verb,
                Args& args) {
  const std::string& token = argv[i];
  const auto eq = token.find('=');
  const std::string name = token.substr(0, eq);
  if (name == "--api-key") {
    throw UsageError(
        "secrets never come from the command line: pass the api key on stdin with "
        "--api-key-stdin (or from a file with --api-key-file F)");
  }
  auto kind = optionKinds().find(name);
  if (kind == optionKinds().end()) throw UsageError("unknown option " + name);
  if (!allowed(verb, name)) throw UsageError(name + " does not apply to " + args.verb);
  if (kind->second == OptionKind::kFlag) {
    if (eq != std::string::npos) throw UsageError(name + " takes no value");
    args.flags.push_back(name);
    return;
  }
  std::string value;
  if (eq != std::string::npos) {
    value = token.substr(eq + 1);
  } else if (i + 1 < argv.size()) {
    value = argv[++i];
  } else {
    throw UsageError(name + " needs a value");
  }
  if (kind->second == OptionKind::kRepeated) {
    args.repeated.emplace_back(name, std::move(value));
  } else {
    args.values[name] = std::move(value);
  }
}

Args parseArgs(const std::vector<std::string>& argv, const Verb*& verb) {
  Args args;
  args.verb = argv.at(0);
  auto found = verbs().find(args.verb);
  if (found == verbs().end()) throw UsageError("unknown verb " + args.verb);
  verb = &found->second;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (argv[i].starts_with("--")) {
      takeOption(argv, i, *verb, args);
    } else {
      args.positionals.push_back(argv[i]);
    }
  }
  const std::size_t n = args.positionals.size();
  if (n < verb->min_positionals) throw UsageError(args.verb + " needs a key (an id or a name)");
  if (n > verb->max_positionals) throw UsageError("too many arguments to " + args.verb);
  return args;
}

bool wantsHelp(const std::vector<std::string>& argv) {
  return std::any_of(argv.begin(), argv.end(),
                     [](const std::string& a) { return a == "--help" || a == "-h"; }) ||
         (!argv.empty() && argv[0] == "help");
}

std::filesystem::path dataDir(const Args& args) {
  if (const std::string* dir = args.value("--data-dir")) return *dir;
  const char* env = std::getenv("PORTICO_DATA_DIR");
  if (env != nullptr && *env != '\0') return env;
  return "./data";
}

std::string storeName(const Args& args) {
  if (const std::string* store = args.value("--store")) return *store;
  const char* env = std::getenv("PORTICO_STORE");
  return env != nullptr ? env : "";
}

int run(const Args& args,
        const Verb& verb,
        const ProviderRegistry& registry,
        std::istream& in,
        std::ostream& out) {
  const auto catalog = registry.settingsCatalog();
  const std::string* key_file = args.value("--master-key-file");
  std::optional<MasterKey> master = MasterKey::load(key_file ? *key_file : "");
  const auto store = openKeyStore(storeName(args), dataDir(args));
  KeyService service(*store, *catalog, registry.ids(), std::move(master));
  Context ctx{args, *catalog, in, out};
  return verb.run(ctx, service);
}

}  // namespace

int runKeysCli(const std::vector<std::string>& args,
               const ProviderRegistry& registry,
               std::istream& in,
               std::ostream& out,
               std::ostream& err) {
  if (wantsHelp(args)) {
    out << kUsage;
    return 0;
  }
  try {
    if (args.empty()) throw UsageError("a verb is needed");
    const Verb* verb = nullptr;
    const Args parsed = parseArgs(args, verb);
    return run(parsed, *verb, registry, in, out);
  } catch (const UsageError& e) {
    err << "portico keys: " << e.what() << "\n\n" << kUsage;
    return 2;
  } catch (const std::exception& e) {
    // Refusals, store errors, unreadable master keys: none of their messages holds a secret.
    err << "portico keys: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace portico::keys
