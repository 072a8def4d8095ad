// Private helpers of the kube layer: base64 and file reading.
#pragma once

#include <string>
#include <string_view>

#include "stash/core/result.h"

namespace stash::kube {

std::string Base64Encode(std::string_view in);
Result<std::string> Base64Decode(std::string_view in);
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace stash::kube
