// Standard base64 (RFC 4648, with padding), as Kubernetes uses for Secret data,
// kubeconfig certificate data and list continue tokens.
//
// Thread-safety: stateless free functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stash::api {

std::string Base64Encode(std::string_view in);
// nullopt for text that is not padded standard base64.
std::optional<std::string> Base64Decode(std::string_view in);

}  // namespace stash::api
