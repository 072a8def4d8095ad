// Kubernetes Status error responses (meta/v1 Status), in the shapes kubectl
// turns into `Error from server (<Reason>): <message>`.
//
// Thread-safety: stateless free functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http_server.h"
#include "registry.h"
#include "stash/api/schema.h"
#include "stash/core/status.h"

namespace stash::api {

nlohmann::json StatusObject(int code, const std::string& reason, const std::string& message,
                            nlohmann::json details = nullptr);
HttpResponse StatusResponse(int code, const std::string& reason, const std::string& message,
                            nlohmann::json details = nullptr);
HttpResponse JsonResponse(int code, const nlohmann::json& body);

// `<resource>.<group> "<name>" not found`
HttpResponse NotFoundResponse(const ResourceInfo& r, const std::string& name);
HttpResponse AlreadyExistsResponse(const ResourceInfo& r, const std::string& name);
HttpResponse ConflictResponse(const ResourceInfo& r, const std::string& name);
HttpResponse NamespaceNotFoundResponse(const std::string& ns);
HttpResponse BadRequestResponse(const std::string& message);
// 422 with details.causes, message `<Kind>.<group> "<name>" is invalid: ...`.
HttpResponse InvalidResponse(const ResourceInfo& r, const std::string& name,
                             const std::vector<FieldError>& errors);
// 404 for a path that names no resource.
HttpResponse PathNotFoundResponse();
// Maps a stash::Status from a lower module (patch, selector, protobuf…).
HttpResponse ErrorResponse(const Status& status);

}  // namespace stash::api
