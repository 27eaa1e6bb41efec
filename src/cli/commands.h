// One function per subcommand; each registers its options on the app and
// returns the callback that runs it after parsing.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace least::cli {

using Command = std::function<int()>;

Command add_run_command(CLI::App& app);
Command add_check_command(CLI::App& app);
Command add_explain_command(CLI::App& app);
Command add_promises_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_import_command(CLI::App& app);
Command add_bundle_command(CLI::App& app);
Command add_diff_command(CLI::App& app);
Command add_learn_command(CLI::App& app);
Command add_merge_command(CLI::App& app);
Command add_analyze_command(CLI::App& app);

}  // namespace least::cli
