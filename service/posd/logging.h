// posd's log output: one spdlog logger on standard error.
#pragma once

#include "spdlog/common.h"

namespace posd {

// Makes spdlog's default logger write to standard error at `level`. Under
// systemd (JOURNAL_STREAM set) each line carries a "<N>" syslog priority prefix
// so the journal records levels, and no timestamp (the journal adds its own).
void SetUpLogging(spdlog::level::level_enum level);

}  // namespace posd
