#include "stash/apis/authentication.h"

namespace stash::apis {

template <class V>
void BoundObjectReference::Visit(V& v) {
  v("kind", kind);
  v("apiVersion", api_version);
  v("name", name);
  v("uid", uid);
}
STASH_APIS_DEFINE_CODEC(BoundObjectReference);

template <class V>
void TokenRequestSpec::Visit(V& v) {
  v("audiences", audiences);
  v("expirationSeconds", expiration_seconds);
  v("boundObjectRef", bound_object_ref);
}
STASH_APIS_DEFINE_CODEC(TokenRequestSpec);

template <class V>
void TokenRequestStatus::Visit(V& v) {
  v("token", token);
  v("expirationTimestamp", expiration_timestamp);
}
STASH_APIS_DEFINE_CODEC(TokenRequestStatus);

template <class V>
void TokenRequest::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
  v("status", status);
}
STASH_APIS_DEFINE_CODEC(TokenRequest);

}  // namespace stash::apis
