#include "enforce/capabilities.h"

#include <errno.h>
#include <fmt/format.h>
#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fstream>

namespace least::enforce {

Result<CapabilityPlan> prepare_capabilities(const std::vector<std::string>& keep) {
  CapabilityPlan plan;
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  if (!(in >> plan.last_cap) || plan.last_cap < 0 || plan.last_cap > 63)
    return make_error(ErrorKind::kSystem, "read /proc/sys/kernel/cap_last_cap");
  for (const auto& name : keep) {
    cap_value_t value;
    if (cap_from_name(name.c_str(), &value) != 0)
      return make_error(ErrorKind::kPolicy, fmt::format("unknown capability \"{}\"", name));
    plan.keep |= 1ULL << value;
  }
  return plan;
}

namespace {

struct CapState {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
};

uint64_t combine(uint32_t lo, uint32_t hi) {
  return lo | (static_cast<uint64_t>(hi) << 32);
}

}  // namespace

int apply_capabilities(const CapabilityPlan& plan) noexcept {
  if (plan.keep_all) return 0;
  CapState s;
  if (syscall(SYS_capget, &s.header, s.data) != 0) return errno;
  const uint64_t effective = combine(s.data[0].effective, s.data[1].effective);
  const uint64_t permitted = combine(s.data[0].permitted, s.data[1].permitted);

  if (effective & (1ULL << CAP_SETPCAP)) {
    for (int c = 0; c <= plan.last_cap; ++c)
      if (!(plan.keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) return errno;
  }
  // Each step only when there is something to change, so that least also
  // starts under a filter (its own, nested) that refuses these calls.
  bool any_ambient = false;
  for (int c = 0; c <= plan.last_cap && !any_ambient; ++c)
    any_ambient = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1;
  if (any_ambient && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return errno;

  // Root's exec recomputes permitted from inheritable and bounding, so both
  // must hold no more than `keep`.
  const uint64_t inheritable = plan.keep & permitted;
  if (combine(s.data[0].inheritable, s.data[1].inheritable) != inheritable) {
    s.data[0].inheritable = static_cast<uint32_t>(inheritable);
    s.data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
    if (syscall(SYS_capset, &s.header, s.data) != 0) return errno;
  }
  for (int c = 0; c <= plan.last_cap; ++c)
    if ((inheritable & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
      return errno;
  return 0;
}

}  // namespace least::enforce
