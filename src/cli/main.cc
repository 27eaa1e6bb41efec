#include <string>
#include <vector>

#include "cli/app.h"

int main(int argc, char** argv) {
  return least::cli::run_app(std::vector<std::string>(argv, argv + argc));
}
