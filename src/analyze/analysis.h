// `least analyze`: every syscall a program and the libraries it loads can
// make, from their code. The objects ld.so would load are summarised (or
// taken from the cache by build-id), linked into one call graph, and walked
// from the roots; libraries dlopen'ed by constant name join the graph.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analyze/object_summary.h"
#include "analyze/program_graph.h"
#include "base/error.h"

namespace least::analyze {

struct AnalyzeOptions {
  std::string cache_dir;  // "" = no cache
};

// A call of an exec-family function from reachable code.
struct ExecFinding {
  std::string caller;               // "tar:main"
  std::string function;             // "execvp"
  std::optional<std::string> path;  // when it is a constant string
};

struct DlopenFinding {
  std::string caller;
  std::optional<std::string> name;      // when it is a constant string
  std::optional<std::string> resolved;  // the library found, now analysed too
  std::string problem;                  // why it was not analysed, else ""
};

struct AnalyzedObject {
  std::string path;
  std::string why;      // "program", "needed by tar", "dlopen'ed by ...", "interpreter"
  bool cached = false;  // summary read from the cache
};

struct Analysis {
  std::string program;
  std::vector<AnalyzedObject> objects;  // load order, as the graph's
  std::unique_ptr<ProgramGraph> graph;
  std::vector<ExecFinding> execs;
  std::vector<DlopenFinding> dlopens;
  // What else the header should say ("tar:main calls dlsym with a name that
  // is not constant: ...").
  std::vector<std::string> notes;
  // Why summaries could not be cached ("" when they were, or no cache): the
  // next run disassembles again.
  std::string cache_problem;
  double seconds = 0;

 private:
  friend Result<Analysis> analyze_program(const std::string&, const AnalyzeOptions&);
  std::deque<ObjectSummary> summaries_;  // the graph points into these
};

Result<Analysis> analyze_program(const std::string& program, const AnalyzeOptions& options);

}  // namespace least::analyze
