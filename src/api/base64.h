// Standard base64 (RFC 4648, with padding), as Kubernetes uses for Secret data
// and kubeconfig certificate data.
//
// Thread-safety: stateless free function.
#pragma once

#include <string>
#include <string_view>

namespace stash::api {

std::string Base64Encode(std::string_view in);

}  // namespace stash::api
