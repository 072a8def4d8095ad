#include "stash/agent/authorized.h"

#include "stash/apis/client.h"

namespace stash::agent {

bool IsDenial(const Status& s) {
  return s.code() == Code::kUnauthorized || s.code() == Code::kForbidden;
}

namespace {

// T: a typed object whose status has `conditions` (BackupConfiguration, RestoreSession).
template <typename T>
Status SetOn(const kube::Client& client, Clock& clock, const std::string& ns,
             const std::string& name, std::string_view type, const Status* denial,
             const std::string& message) {
  const std::string id =
      "condition " + std::string(type) + " of " + T::Resource().kind + " " + ns + "/" + name;
  std::string_view reason = "PermissionGranted";
  if (denial) reason = denial->code() == Code::kUnauthorized ? "Unauthorized" : "PermissionDenied";
  for (int attempt = 0;; ++attempt) {
    auto bc = apis::Get<T>(client, ns, name);
    if (!bc.ok()) return Status(bc.status()).Prepend("reading " + id);
    const apis::Condition* now = apis::FindCondition(bc->status.conditions, type);
    if (!denial && (!now || now->status == "True")) return Status::Ok();
    decltype(bc->status) status;  // only the conditions are written
    status.conditions = bc->status.conditions;
    if (!apis::SetCondition(&status.conditions, type, !denial, reason, message, clock.Now())) {
      return Status::Ok();
    }
    auto patched = apis::PatchStatus(client, *bc, status, /*if_version=*/true);
    if (patched.ok()) return Status::Ok();
    if (patched.status().code() != Code::kConflict || attempt == 3) {
      return Status(patched.status()).Prepend("setting " + id);
    }
  }
}

}  // namespace

Status SetAuthorized(const kube::Client& client, Clock& clock, const std::string& ns,
                     const std::string& name, std::string_view type, const Status* denial,
                     const std::string& message) {
  return SetOn<apis::BackupConfiguration>(client, clock, ns, name, type, denial, message);
}

Status SetRestoreAuthorized(const kube::Client& client, Clock& clock, const std::string& ns,
                            const std::string& name, std::string_view type, const Status* denial,
                            const std::string& message) {
  return SetOn<apis::RestoreSession>(client, clock, ns, name, type, denial, message);
}

std::string AuthorizedMessage(const std::string& who, const Status* denial,
                              const std::string& role) {
  if (!denial) return who + " has every permission it used.";
  return who + " was denied: " + denial->message() + ". Grant it in Role " + role +
         " (the operator makes it) or the pod's ServiceAccount binding.";
}

}  // namespace stash::agent
