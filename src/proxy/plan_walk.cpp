#include "proxy/plan_walk.hpp"

#include "proxy/leaf.hpp"
#include "routing/conditions.hpp"
#include "routing/fallback_policy.hpp"
#include "routing/load_balancer.hpp"

namespace portico::proxy {
namespace {

std::string childIndex(const std::string& option_index, std::size_t i) {
  return option_index + ".targets[" + std::to_string(i) + "]";
}

// Whether a fallback node should move on to its next target after `attempt`.
bool shouldFallBack(const ConfigNode& node, const Attempt& attempt) {
  if (attempt.gateway_exception || attempt.reply.client_gone) {
    return false;
  }
  return routing::fallsBack(node, attempt.reply.status);
}

Awaitable<Attempt> walkFallback(RequestState& state,
                                const ConfigNode& node,
                                const routing::Inherited& mine,
                                const std::string& option_index) {
  Attempt last;
  for (std::size_t i = 0; i < node.targets.size(); ++i) {
    last = co_await walkPlan(state, node.targets[i], mine, childIndex(option_index, i));
    if (!shouldFallBack(node, last)) {
      break;
    }
    if (i + 1 < node.targets.size()) {
      state.worker.observers.fellBack(state.info, last.reply.provider, last.option_index,
                                      last.reply.status);
    }
  }
  co_return last;
}

// The child a loadbalance or conditional node chose, or the error that ends the request.
Expected<std::size_t> chooseChild(RequestState& state, const ConfigNode& node) {
  if (node.mode == "loadbalance") {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const auto picked = routing::pickWeighted(node.targets, unit(state.worker.random));
    if (!picked) {
      return errors::failure(400,
                             "Invalid config passed: every loadbalance target has weight 0, so "
                             "none can be chosen");
    }
    return *picked;
  }
  if (node.mode == "conditional") {
    const routing::ConditionContext context{state.ctx.metadata, state.body,
                                            "/v1" + state.request.path};
    return routing::chooseConditionalTarget(node, context);
  }
  return std::size_t{0};  // "single" and anything the validator let through: the first target
}

}  // namespace

Awaitable<Attempt> walkPlan(RequestState& state,
                            const ConfigNode& node,
                            const routing::Inherited& parent,
                            std::string option_index) {
  const routing::Inherited mine = routing::inherit(parent, node);
  if (node.isLeaf()) {
    co_return co_await callLeaf(state, node, mine, std::move(option_index));
  }
  if (node.targets.empty()) {
    co_return fromError(errors::failure(400, "Invalid config passed: no targets"), option_index);
  }
  if (node.mode == "fallback") {
    co_return co_await walkFallback(state, node, mine, option_index);
  }
  auto chosen = chooseChild(state, node);
  if (!chosen) {
    // A router error ends the request with its 400, whatever the enclosing strategy.
    Attempt failed = fromError(chosen.error(), option_index);
    failed.gateway_exception = true;
    co_return failed;
  }
  const std::size_t index = *chosen;
  co_return co_await walkPlan(state, node.targets[index], mine, childIndex(option_index, index));
}

}  // namespace portico::proxy
