#include "stash/apis/coordination.h"

namespace stash::apis {

template <class V>
void LeaseSpec::Visit(V& v) {
  v("holderIdentity", holder_identity);
  v("leaseDurationSeconds", lease_duration_seconds);
  v("acquireTime", acquire_time);
  v("renewTime", renew_time);
  v("leaseTransitions", lease_transitions);
}
STASH_APIS_DEFINE_CODEC(LeaseSpec);

template <class V>
void Lease::Visit(V& v) {
  v("apiVersion", api_version);
  v("kind", kind);
  v("metadata", metadata);
  v("spec", spec);
}
STASH_APIS_DEFINE_CODEC(Lease);

}  // namespace stash::apis
