#include "policy/policy.h"

namespace least::policy {

namespace {

template <class T>
void append(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

template <class T>
void override_if_set(std::optional<T>& to, const std::optional<T>& from) {
  if (from) to = from;
}

}  // namespace

void merge_into(Policy& base, const Policy& extra) {
  append(base.promises, extra.promises);
  if (extra.promises_declared && !base.promises_declared)
    base.promises_origin = extra.promises_origin;
  base.promises_declared = base.promises_declared || extra.promises_declared;
  append(base.filesystem.read, extra.filesystem.read);
  append(base.filesystem.write, extra.filesystem.write);
  append(base.filesystem.create, extra.filesystem.create);
  append(base.filesystem.exec, extra.filesystem.exec);
  append(base.network.connect, extra.network.connect);
  append(base.network.bind, extra.network.bind);
  override_if_set(base.limits.processes, extra.limits.processes);
  override_if_set(base.limits.memory, extra.limits.memory);
  override_if_set(base.limits.open_files, extra.limits.open_files);
  override_if_set(base.limits.core, extra.limits.core);
  override_if_set(base.limits.stack, extra.limits.stack);
  override_if_set(base.limits.cpu_seconds, extra.limits.cpu_seconds);
  append(base.isolation.capabilities, extra.isolation.capabilities);
  override_if_set(base.isolation.private_tmp, extra.isolation.private_tmp);
  append(base.syscalls.allow, extra.syscalls.allow);
  append(base.syscalls.allow_when, extra.syscalls.allow_when);
  append(base.syscalls.deny, extra.syscalls.deny);
}

}  // namespace least::policy
