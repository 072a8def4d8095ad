// Private helpers of the kube layer: file reading.
#pragma once

#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash::kube {

Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace stash::kube
