#include "stash/core/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace stash {

Status InitLogging(std::string_view level) {
  auto lvl = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; tell them apart.
  if (lvl == spdlog::level::off && level != "off") {
    return InvalidError("unknown log level \"" + std::string(level) + "\" (want one of " +
                        std::string(kLogLevels) + ")");
  }
  static bool installed = false;
  if (!installed) {
    auto logger = spdlog::stderr_color_mt("stash");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    spdlog::set_default_logger(logger);
    installed = true;
  }
  spdlog::set_level(lvl);
  return Status::Ok();
}

}  // namespace stash
