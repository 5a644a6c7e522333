// posd: the point-of-sale daemon. See docs/operations.md.
#include <malloc.h>

#include <iostream>

#include "CLI/CLI.hpp"
#include "service/common/version.h"
#include "service/config/config.h"
#include "service/posd/daemon.h"

int main(int argc, char** argv) {
  // glibc hands the free top of a thread's heap back to the kernel with
  // madvise as soon as it passes 128 KiB; after every group commit the
  // engine's writer thread frees that much, and each madvise flushes the TLB
  // on every CPU. bench_payments measured 5x the CPU per payment transition
  // with the default (docs/performance.md). Keeping up to 64 MiB of free
  // heap per arena costs no more than the peak the process already reached.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  CLI::App app{"posd: point-of-sale backend serving the posd gRPC API"};
  posd::DaemonOptions options;
  app.add_option("-c,--config", options.config_path,
                 "configuration file (YAML or JSON); without it, built-in defaults")
      ->envname("POSD_CONFIG");
  app.add_flag("--check-config", options.check_only,
               "check the configuration and the database, then exit");
  app.set_version_flag("--version", std::string("posd ") + posd::kVersion);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? posd::kExitOk : posd::kExitUsage;
  }
  return posd::RunDaemon(options);
}
