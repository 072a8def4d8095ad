// Field tables (format: protobuf_messages.cc) of the kinds of authentication
// and authorization that kubectl sends as protobuf: ServiceAccount (core/v1),
// TokenRequest, SelfSubjectReview, TokenReview (authentication/v1), the
// access and rules reviews (authorization/v1) and RBAC (rbac/v1), from
// k8s.io/api generated.proto.
#include <string_view>

namespace stash::api::pb {

std::string_view AuthMessages() {
  return R"tbl(
ServiceAccount 1:metadata:m:ObjectMeta 2:secrets:m*:ObjectReference
  3:imagePullSecrets:m*:LocalObjectReference 4:automountServiceAccountToken:t!
TokenRequest 1:metadata:m:ObjectMeta 2:spec:m:TokenRequestSpec 3:status:m:TokenRequestStatus
TokenRequestSpec 1:audiences:s* 3:boundObjectRef:m:BoundObjectReference 4:expirationSeconds:i!
BoundObjectReference 1:kind:s 2:apiVersion:s 3:name:s 4:uid:s
TokenRequestStatus 1:token:s 2:expirationTimestamp:time
SelfSubjectReview 1:metadata:m:ObjectMeta 2:status:m:SelfSubjectReviewStatus
SelfSubjectReviewStatus 1:userInfo:m:UserInfo
UserInfo 1:username:s 2:uid:s 3:groups:s*
TokenReview 1:metadata:m:ObjectMeta 2:spec:m:TokenReviewSpec
TokenReviewSpec 1:token:s 2:audiences:s*
SelfSubjectAccessReview 1:metadata:m:ObjectMeta 2:spec:m:SelfSubjectAccessReviewSpec
SelfSubjectAccessReviewSpec 1:resourceAttributes:m:ResourceAttributes
  2:nonResourceAttributes:m:NonResourceAttributes
SubjectAccessReview 1:metadata:m:ObjectMeta 2:spec:m:SubjectAccessReviewSpec
LocalSubjectAccessReview 1:metadata:m:ObjectMeta 2:spec:m:SubjectAccessReviewSpec
SubjectAccessReviewSpec 1:resourceAttributes:m:ResourceAttributes
  2:nonResourceAttributes:m:NonResourceAttributes 3:user:s 4:groups:s* 6:uid:s
ResourceAttributes 1:namespace:s 2:verb:s 3:group:s 4:version:s 5:resource:s 6:subresource:s
  7:name:s
NonResourceAttributes 1:path:s 2:verb:s
SelfSubjectRulesReview 1:metadata:m:ObjectMeta 2:spec:m:SelfSubjectRulesReviewSpec
SelfSubjectRulesReviewSpec 1:namespace:s
Role 1:metadata:m:ObjectMeta 2:rules:m*:PolicyRule
ClusterRole 1:metadata:m:ObjectMeta 2:rules:m*:PolicyRule 3:aggregationRule:m:AggregationRule
AggregationRule 1:clusterRoleSelectors:m*:LabelSelector
PolicyRule 1:verbs:s* 2:apiGroups:s* 3:resources:s* 4:resourceNames:s* 5:nonResourceURLs:s*
RoleBinding 1:metadata:m:ObjectMeta 2:subjects:m*:Subject 3:roleRef:m:RoleRef
ClusterRoleBinding 1:metadata:m:ObjectMeta 2:subjects:m*:Subject 3:roleRef:m:RoleRef
Subject 1:kind:s 2:apiGroup:s 3:name:s 4:namespace:s
RoleRef 1:apiGroup:s 2:kind:s 3:name:s
)tbl";
}

}  // namespace stash::api::pb
