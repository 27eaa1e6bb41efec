// least promises: the catalog, as the docs render it.
#include <fmt/format.h>

#include <memory>

#include "cli/app.h"
#include "cli/commands.h"
#include "policy/catalog.h"

namespace least::cli {

namespace {

int list_promises(bool markdown) {
  if (markdown) {
    fmt::print("{}", policy::render_promises_markdown());
    return kExitOk;
  }
  for (const auto& p : policy::promise_catalog()) fmt::print("{:<10} {}\n", p.name, p.summary);
  return kExitOk;
}

}  // namespace

Command add_promises_command(CLI::App& app) {
  auto markdown = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("promises", "List the promises a policy can make");
  sub->add_flag("--markdown", *markdown, "Print the full catalog as docs/promises.md");
  return [markdown] { return list_promises(*markdown); };
}

}  // namespace least::cli
