#include "libequiv/models/port_registry.h"

#include <map>
#include <mutex>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, PortFactory, std::less<>> ports;
};

// A function-local static: registrations run during static initialisation of other units.
Registry& TheRegistry() {
  static Registry registry;
  return registry;
}

}  // namespace

bool RegisterPort(PortFactory factory) {
  if (factory.name.empty() || factory.name == "builtin") {
    throw Error("RegisterPort: a port needs a name other than \"\" and \"builtin\"");
  }
  if (!factory.make) throw Error("RegisterPort: port \"" + factory.name + "\" has no factory");
  Registry& registry = TheRegistry();
  const std::lock_guard lock(registry.mutex);
  const std::string name = factory.name;
  if (!registry.ports.emplace(name, std::move(factory)).second) {
    throw Error("RegisterPort: a port named \"" + name + "\" is already registered");
  }
  return true;
}

const PortFactory* FindRegisteredPort(std::string_view name) {
  Registry& registry = TheRegistry();
  const std::lock_guard lock(registry.mutex);
  const auto it = registry.ports.find(name);
  return it == registry.ports.end() ? nullptr : &it->second;
}

std::vector<std::string> RegisteredPortNames() {
  Registry& registry = TheRegistry();
  const std::lock_guard lock(registry.mutex);
  std::vector<std::string> names;
  for (const auto& [name, factory] : registry.ports) names.push_back(name);
  return names;
}

}  // namespace equiv
