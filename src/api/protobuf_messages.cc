// Field tables of the k8s.io/api messages reachable from the workload kinds
// (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod, PersistentVolumeClaim,
// Event) and the core kinds, derived from core/v1, apps/v1 and batch/v1
// generated.proto of github.com/kubernetes/api at 10b39a39b (field numbers never
// change, so older kubectl bodies decode too).
//
// Format (parsed by protobuf_schema.cc): a line starting in column 0 names a
// message; its fields follow, separated by spaces, continuation lines indented:
//   <number>:<jsonName>:<kind>[*|!|^][:<MessageName>]
// kinds: s string, b bytes, t bool, i integer, m message, ms map<string,string>,
// mb map<string,bytes>, mq map<string,Quantity>, time, mtime, q Quantity,
// ios IntOrString. Suffix * repeated, ! keep zero values (Go
// pointer fields), ^ inlined into the parent (Go embedded struct).
#include <string_view>

namespace stash::api::pb {

std::string_view WorkloadMessages() {
  return R"tbl(
Deployment 1:metadata:m:ObjectMeta 2:spec:m:DeploymentSpec 3:status:m:DeploymentStatus
DeploymentSpec 1:replicas:i! 2:selector:m:LabelSelector 3:template:m:PodTemplateSpec
  4:strategy:m:DeploymentStrategy 5:minReadySeconds:i 6:revisionHistoryLimit:i! 7:paused:t
  9:progressDeadlineSeconds:i!
PodTemplateSpec 1:metadata:m:ObjectMeta 2:spec:m:PodSpec
PodSpec 1:volumes:m*:Volume 2:containers:m*:Container 3:restartPolicy:s
  4:terminationGracePeriodSeconds:i! 5:activeDeadlineSeconds:i! 6:dnsPolicy:s 7:nodeSelector:ms
  8:serviceAccountName:s 9:serviceAccount:s 10:nodeName:s 11:hostNetwork:t 12:hostPID:t
  13:hostIPC:t 14:securityContext:m:PodSecurityContext 15:imagePullSecrets:m*:LocalObjectReference
  16:hostname:s 17:subdomain:s 18:affinity:m:Affinity 19:schedulerName:s
  20:initContainers:m*:Container 21:automountServiceAccountToken:t! 22:tolerations:m*:Toleration
  23:hostAliases:m*:HostAlias 24:priorityClassName:s 25:priority:i! 26:dnsConfig:m:PodDNSConfig
  27:shareProcessNamespace:t! 28:readinessGates:m*:PodReadinessGate 29:runtimeClassName:s
  30:enableServiceLinks:t! 31:preemptionPolicy:s 32:overhead:mq
  33:topologySpreadConstraints:m*:TopologySpreadConstraint
  34:ephemeralContainers:m*:EphemeralContainer 35:setHostnameAsFQDN:t! 36:os:m:PodOS
  37:hostUsers:t! 38:schedulingGates:m*:PodSchedulingGate 39:resourceClaims:m*:PodResourceClaim
  40:resources:m:ResourceRequirements 41:hostnameOverride:s
  43:schedulingGroup:m:PodSchedulingGroup 44:evictionResponders:m*:EvictionResponder
Volume 1:name:s 2:volumeSource:m^:VolumeSource
VolumeSource 1:hostPath:m:HostPathVolumeSource 2:emptyDir:m:EmptyDirVolumeSource
  3:gcePersistentDisk:m:GCEPersistentDiskVolumeSource
  4:awsElasticBlockStore:m:AWSElasticBlockStoreVolumeSource 5:gitRepo:m:GitRepoVolumeSource
  6:secret:m:SecretVolumeSource 7:nfs:m:NFSVolumeSource 8:iscsi:m:ISCSIVolumeSource
  9:glusterfs:m:GlusterfsVolumeSource 10:persistentVolumeClaim:m:PersistentVolumeClaimVolumeSource
  11:rbd:m:RBDVolumeSource 12:flexVolume:m:FlexVolumeSource 13:cinder:m:CinderVolumeSource
  14:cephfs:m:CephFSVolumeSource 15:flocker:m:FlockerVolumeSource
  16:downwardAPI:m:DownwardAPIVolumeSource 17:fc:m:FCVolumeSource
  18:azureFile:m:AzureFileVolumeSource 19:configMap:m:ConfigMapVolumeSource
  20:vsphereVolume:m:VsphereVirtualDiskVolumeSource 21:quobyte:m:QuobyteVolumeSource
  22:azureDisk:m:AzureDiskVolumeSource 23:photonPersistentDisk:m:PhotonPersistentDiskVolumeSource
  24:portworxVolume:m:PortworxVolumeSource 25:scaleIO:m:ScaleIOVolumeSource
  26:projected:m:ProjectedVolumeSource 27:storageos:m:StorageOSVolumeSource
  28:csi:m:CSIVolumeSource 29:ephemeral:m:EphemeralVolumeSource 30:image:m:ImageVolumeSource
HostPathVolumeSource 1:path:s 2:type:s
EmptyDirVolumeSource 1:medium:s 2:sizeLimit:q 3:mode:i!
GCEPersistentDiskVolumeSource 1:pdName:s 2:fsType:s 3:partition:i! 4:readOnly:t
AWSElasticBlockStoreVolumeSource 1:volumeID:s 2:fsType:s 3:partition:i! 4:readOnly:t
GitRepoVolumeSource 1:repository:s 2:revision:s 3:directory:s
SecretVolumeSource 1:secretName:s 2:items:m*:KeyToPath 3:defaultMode:i! 4:optional:t!
  5:defaultUser:i
KeyToPath 1:key:s 2:path:s 3:mode:i! 4:user:i
NFSVolumeSource 1:server:s 2:path:s 3:readOnly:t
ISCSIVolumeSource 1:targetPortal:s 2:iqn:s 3:lun:i 4:iscsiInterface:s 5:fsType:s 6:readOnly:t
  7:portals:s* 8:chapAuthDiscovery:t 10:secretRef:m:LocalObjectReference 11:chapAuthSession:t
  12:initiatorName:s
LocalObjectReference 1:name:s
GlusterfsVolumeSource 1:endpoints:s 2:path:s 3:readOnly:t
PersistentVolumeClaimVolumeSource 1:claimName:s 2:readOnly:t
RBDVolumeSource 1:monitors:s* 2:image:s 3:fsType:s 4:pool:s 5:user:s 6:keyring:s
  7:secretRef:m:LocalObjectReference 8:readOnly:t
FlexVolumeSource 1:driver:s 2:fsType:s 3:secretRef:m:LocalObjectReference 4:readOnly:t
  5:options:ms
CinderVolumeSource 1:volumeID:s 2:fsType:s 3:readOnly:t 4:secretRef:m:LocalObjectReference
CephFSVolumeSource 1:monitors:s* 2:path:s 3:user:s 4:secretFile:s
  5:secretRef:m:LocalObjectReference 6:readOnly:t
FlockerVolumeSource 1:datasetName:s 2:datasetUUID:s
DownwardAPIVolumeSource 1:items:m*:DownwardAPIVolumeFile 2:defaultMode:i! 3:defaultUser:i
DownwardAPIVolumeFile 1:path:s 2:fieldRef:m:ObjectFieldSelector
  3:resourceFieldRef:m:ResourceFieldSelector 4:mode:i! 5:user:i
ObjectFieldSelector 1:apiVersion:s 2:fieldPath:s
ResourceFieldSelector 1:containerName:s 2:resource:s 3:divisor:q
FCVolumeSource 1:targetWWNs:s* 2:lun:i 3:fsType:s 4:readOnly:t 5:wwids:s*
AzureFileVolumeSource 1:secretName:s 2:shareName:s 3:readOnly:t
ConfigMapVolumeSource 1:localObjectReference:m^:LocalObjectReference 2:items:m*:KeyToPath
  3:defaultMode:i! 4:optional:t! 5:defaultUser:i
VsphereVirtualDiskVolumeSource 1:volumePath:s 2:fsType:s 3:storagePolicyName:s 4:storagePolicyID:s
QuobyteVolumeSource 1:registry:s 2:volume:s 3:readOnly:t 4:user:s 5:group:s 6:tenant:s
AzureDiskVolumeSource 1:diskName:s 2:diskURI:s 3:cachingMode:s 4:fsType:s 5:readOnly:t 6:kind:s
PhotonPersistentDiskVolumeSource 1:pdID:s 2:fsType:s
ProjectedVolumeSource 1:sources:m*:VolumeProjection 2:defaultMode:i! 3:defaultUser:i
VolumeProjection 1:secret:m:SecretProjection 2:downwardAPI:m:DownwardAPIProjection
  3:configMap:m:ConfigMapProjection 4:serviceAccountToken:m:ServiceAccountTokenProjection
  5:clusterTrustBundle:m:ClusterTrustBundleProjection 6:podCertificate:m:PodCertificateProjection
SecretProjection 1:localObjectReference:m^:LocalObjectReference 2:items:m*:KeyToPath 4:optional:t!
DownwardAPIProjection 1:items:m*:DownwardAPIVolumeFile
ConfigMapProjection 1:localObjectReference:m^:LocalObjectReference 2:items:m*:KeyToPath
  4:optional:t!
ServiceAccountTokenProjection 1:audience:s 2:expirationSeconds:i! 3:path:s 4:user:i
ClusterTrustBundleProjection 1:name:s 2:signerName:s 3:labelSelector:m:LabelSelector 4:path:s
  5:optional:t! 6:user:i
PodCertificateProjection 1:signerName:s 2:keyType:s 3:maxExpirationSeconds:i
  4:credentialBundlePath:s 5:keyPath:s 6:certificateChainPath:s 7:userAnnotations:ms 8:user:i
PortworxVolumeSource 1:volumeID:s 2:fsType:s 3:readOnly:t
ScaleIOVolumeSource 1:gateway:s 2:system:s 3:secretRef:m:LocalObjectReference 4:sslEnabled:t
  5:protectionDomain:s 6:storagePool:s 7:storageMode:s 8:volumeName:s 9:fsType:s 10:readOnly:t
StorageOSVolumeSource 1:volumeName:s 2:volumeNamespace:s 3:fsType:s 4:readOnly:t
  5:secretRef:m:LocalObjectReference
CSIVolumeSource 1:driver:s 2:readOnly:t 3:fsType:s 4:volumeAttributes:ms
  5:nodePublishSecretRef:m:LocalObjectReference
EphemeralVolumeSource 1:volumeClaimTemplate:m:PersistentVolumeClaimTemplate
PersistentVolumeClaimTemplate 1:metadata:m:ObjectMeta 2:spec:m:PersistentVolumeClaimSpec
PersistentVolumeClaimSpec 1:accessModes:s* 2:resources:m:VolumeResourceRequirements 3:volumeName:s
  4:selector:m:LabelSelector 5:storageClassName:s 6:volumeMode:s
  7:dataSource:m:TypedLocalObjectReference 8:dataSourceRef:m:TypedObjectReference
  9:volumeAttributesClassName:s
VolumeResourceRequirements 1:limits:mq 2:requests:mq
TypedLocalObjectReference 1:apiGroup:s 2:kind:s 3:name:s
TypedObjectReference 1:apiGroup:s 2:kind:s 3:name:s 4:namespace:s
ImageVolumeSource 1:reference:s 2:pullPolicy:s
Container 1:name:s 2:image:s 3:command:s* 4:args:s* 5:workingDir:s 6:ports:m*:ContainerPort
  7:env:m*:EnvVar 8:resources:m:ResourceRequirements 9:volumeMounts:m*:VolumeMount
  10:livenessProbe:m:Probe 11:readinessProbe:m:Probe 12:lifecycle:m:Lifecycle
  13:terminationMessagePath:s 14:imagePullPolicy:s 15:securityContext:m:SecurityContext 16:stdin:t
  17:stdinOnce:t 18:tty:t 19:envFrom:m*:EnvFromSource 20:terminationMessagePolicy:s
  21:volumeDevices:m*:VolumeDevice 22:startupProbe:m:Probe
  23:resizePolicy:m*:ContainerResizePolicy 24:restartPolicy:s
  25:restartPolicyRules:m*:ContainerRestartRule
ContainerPort 1:name:s 2:hostPort:i 3:containerPort:i 4:protocol:s 5:hostIP:s
EnvFromSource 1:prefix:s 2:configMapRef:m:ConfigMapEnvSource 3:secretRef:m:SecretEnvSource
ConfigMapEnvSource 1:localObjectReference:m^:LocalObjectReference 2:optional:t!
SecretEnvSource 1:localObjectReference:m^:LocalObjectReference 2:optional:t!
EnvVar 1:name:s 2:value:s 3:valueFrom:m:EnvVarSource
EnvVarSource 1:fieldRef:m:ObjectFieldSelector 2:resourceFieldRef:m:ResourceFieldSelector
  3:configMapKeyRef:m:ConfigMapKeySelector 4:secretKeyRef:m:SecretKeySelector
  5:fileKeyRef:m:FileKeySelector
ConfigMapKeySelector 1:localObjectReference:m^:LocalObjectReference 2:key:s 3:optional:t!
SecretKeySelector 1:localObjectReference:m^:LocalObjectReference 2:key:s 3:optional:t!
FileKeySelector 1:volumeName:s 2:path:s 3:key:s 4:optional:t!
ResourceRequirements 1:limits:mq 2:requests:mq 3:claims:m*:ResourceClaim
ResourceClaim 1:name:s 2:request:s
ContainerResizePolicy 1:resourceName:s 2:restartPolicy:s
ContainerRestartRule 1:action:s 2:exitCodes:m:ContainerRestartRuleOnExitCodes
ContainerRestartRuleOnExitCodes 1:operator:s 2:values:i*
VolumeMount 1:name:s 2:readOnly:t 3:mountPath:s 4:subPath:s 5:mountPropagation:s 6:subPathExpr:s
  7:recursiveReadOnly:s 8:bindMountOptions:s*
VolumeDevice 1:name:s 2:devicePath:s
Probe 1:handler:m^:ProbeHandler 2:initialDelaySeconds:i 3:timeoutSeconds:i 4:periodSeconds:i
  5:successThreshold:i 6:failureThreshold:i 7:terminationGracePeriodSeconds:i!
ProbeHandler 1:exec:m:ExecAction 2:httpGet:m:HTTPGetAction 3:tcpSocket:m:TCPSocketAction
  4:grpc:m:GRPCAction
ExecAction 1:command:s*
HTTPGetAction 1:path:s 2:port:ios 3:host:s 4:scheme:s 5:httpHeaders:m*:HTTPHeader 6:protocol:s
HTTPHeader 1:name:s 2:value:s
TCPSocketAction 1:port:ios 2:host:s
GRPCAction 1:port:i 2:service:s 3:mode:s
Lifecycle 1:postStart:m:LifecycleHandler 2:preStop:m:LifecycleHandler 3:stopSignal:s
LifecycleHandler 1:exec:m:ExecAction 2:httpGet:m:HTTPGetAction 3:tcpSocket:m:TCPSocketAction
  4:sleep:m:SleepAction
SleepAction 1:seconds:i
SecurityContext 1:capabilities:m:Capabilities 2:privileged:t! 3:seLinuxOptions:m:SELinuxOptions
  4:runAsUser:i! 5:runAsNonRoot:t! 6:readOnlyRootFilesystem:t! 7:allowPrivilegeEscalation:t!
  8:runAsGroup:i! 9:procMount:s 10:windowsOptions:m:WindowsSecurityContextOptions
  11:seccompProfile:m:SeccompProfile 12:appArmorProfile:m:AppArmorProfile
Capabilities 1:add:s* 2:drop:s*
SELinuxOptions 1:user:s 2:role:s 3:type:s 4:level:s
WindowsSecurityContextOptions 1:gmsaCredentialSpecName:s 2:gmsaCredentialSpec:s 3:runAsUserName:s
  4:hostProcess:t
SeccompProfile 1:type:s 2:localhostProfile:s
AppArmorProfile 1:type:s 2:localhostProfile:s
EphemeralContainer 1:ephemeralContainerCommon:m^:EphemeralContainerCommon 2:targetContainerName:s
EphemeralContainerCommon 1:name:s 2:image:s 3:command:s* 4:args:s* 5:workingDir:s
  6:ports:m*:ContainerPort 7:env:m*:EnvVar 8:resources:m:ResourceRequirements
  9:volumeMounts:m*:VolumeMount 10:livenessProbe:m:Probe 11:readinessProbe:m:Probe
  12:lifecycle:m:Lifecycle 13:terminationMessagePath:s 14:imagePullPolicy:s
  15:securityContext:m:SecurityContext 16:stdin:t 17:stdinOnce:t 18:tty:t
  19:envFrom:m*:EnvFromSource 20:terminationMessagePolicy:s 21:volumeDevices:m*:VolumeDevice
  22:startupProbe:m:Probe 23:resizePolicy:m*:ContainerResizePolicy 24:restartPolicy:s
  25:restartPolicyRules:m*:ContainerRestartRule
PodSecurityContext 1:seLinuxOptions:m:SELinuxOptions 2:runAsUser:i! 3:runAsNonRoot:t!
  4:supplementalGroups:i* 5:fsGroup:i! 6:runAsGroup:i! 7:sysctls:m*:Sysctl
  8:windowsOptions:m:WindowsSecurityContextOptions 9:fsGroupChangePolicy:s
  10:seccompProfile:m:SeccompProfile 11:appArmorProfile:m:AppArmorProfile
  12:supplementalGroupsPolicy:s 13:seLinuxChangePolicy:s
Sysctl 1:name:s 2:value:s
Affinity 1:nodeAffinity:m:NodeAffinity 2:podAffinity:m:PodAffinity
  3:podAntiAffinity:m:PodAntiAffinity
NodeAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:m:NodeSelector
  2:preferredDuringSchedulingIgnoredDuringExecution:m*:PreferredSchedulingTerm
NodeSelector 1:nodeSelectorTerms:m*:NodeSelectorTerm
NodeSelectorTerm 1:matchExpressions:m*:NodeSelectorRequirement
  2:matchFields:m*:NodeSelectorRequirement
NodeSelectorRequirement 1:key:s 2:operator:s 3:values:s*
PreferredSchedulingTerm 1:weight:i 2:preference:m:NodeSelectorTerm
PodAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:m*:PodAffinityTerm
  2:preferredDuringSchedulingIgnoredDuringExecution:m*:WeightedPodAffinityTerm
PodAffinityTerm 1:labelSelector:m:LabelSelector 2:namespaces:s* 3:topologyKey:s
  4:namespaceSelector:m:LabelSelector 5:matchLabelKeys:s* 6:mismatchLabelKeys:s*
WeightedPodAffinityTerm 1:weight:i 2:podAffinityTerm:m:PodAffinityTerm
PodAntiAffinity 1:requiredDuringSchedulingIgnoredDuringExecution:m*:PodAffinityTerm
  2:preferredDuringSchedulingIgnoredDuringExecution:m*:WeightedPodAffinityTerm
Toleration 1:key:s 2:operator:s 3:value:s 4:effect:s 5:tolerationSeconds:i
HostAlias 1:ip:s 2:hostnames:s*
PodDNSConfig 1:nameservers:s* 2:searches:s* 3:options:m*:PodDNSConfigOption
PodDNSConfigOption 1:name:s 2:value:s
PodReadinessGate 1:conditionType:s
TopologySpreadConstraint 1:maxSkew:i 2:topologyKey:s 3:whenUnsatisfiable:s
  4:labelSelector:m:LabelSelector 5:minDomains:i 6:nodeAffinityPolicy:s 7:nodeTaintsPolicy:s
  8:matchLabelKeys:s*
PodOS 1:name:s
PodSchedulingGate 1:name:s
PodResourceClaim 1:name:s 3:resourceClaimName:s 4:resourceClaimTemplateName:s
PodSchedulingGroup 1:podGroupName:s
EvictionResponder 1:name:s 2:priority:i!
DeploymentStrategy 1:type:s 2:rollingUpdate:m:RollingUpdateDeployment
RollingUpdateDeployment 1:maxUnavailable:ios 2:maxSurge:ios
DeploymentStatus 1:observedGeneration:i 2:replicas:i 3:updatedReplicas:i 4:availableReplicas:i
  5:unavailableReplicas:i 6:conditions:m*:DeploymentCondition 7:readyReplicas:i 8:collisionCount:i
  9:terminatingReplicas:i
DeploymentCondition 1:type:s 2:status:s 4:reason:s 5:message:s 6:lastUpdateTime:time
  7:lastTransitionTime:time
StatefulSet 1:metadata:m:ObjectMeta 2:spec:m:StatefulSetSpec 3:status:m:StatefulSetStatus
StatefulSetSpec 1:replicas:i! 2:selector:m:LabelSelector 3:template:m:PodTemplateSpec
  4:volumeClaimTemplates:m*:PersistentVolumeClaim 5:serviceName:s 6:podManagementPolicy:s
  7:updateStrategy:m:StatefulSetUpdateStrategy 8:revisionHistoryLimit:i! 9:minReadySeconds:i
  10:persistentVolumeClaimRetentionPolicy:m:StatefulSetPersistentVolumeClaimRetentionPolicy
  11:ordinals:m:StatefulSetOrdinals
PersistentVolumeClaim 1:metadata:m:ObjectMeta 2:spec:m:PersistentVolumeClaimSpec
  3:status:m:PersistentVolumeClaimStatus
PersistentVolumeClaimStatus 1:phase:s 2:accessModes:s* 3:capacity:mq
  4:conditions:m*:PersistentVolumeClaimCondition 5:allocatedResources:mq
  7:allocatedResourceStatuses:ms 8:currentVolumeAttributesClassName:s
  9:modifyVolumeStatus:m:ModifyVolumeStatus 10:healthStatus:m:VolumeHealthStatus
PersistentVolumeClaimCondition 1:type:s 2:status:s 3:lastProbeTime:time 4:lastTransitionTime:time
  5:reason:s 6:message:s
ModifyVolumeStatus 1:targetVolumeAttributesClassName:s 2:status:s
VolumeHealthStatus 1:healthConditions:m*:VolumeHealthCondition 2:lastTransitionTime:time
VolumeHealthCondition 1:status:s 2:reason:s 3:message:s
StatefulSetUpdateStrategy 1:type:s 2:rollingUpdate:m:RollingUpdateStatefulSetStrategy
RollingUpdateStatefulSetStrategy 1:partition:i! 2:maxUnavailable:ios
StatefulSetPersistentVolumeClaimRetentionPolicy 1:whenDeleted:s 2:whenScaled:s
StatefulSetOrdinals 1:start:i
StatefulSetStatus 1:observedGeneration:i 2:replicas:i 3:readyReplicas:i 4:currentReplicas:i
  5:updatedReplicas:i 6:currentRevision:s 7:updateRevision:s 9:collisionCount:i
  10:conditions:m*:StatefulSetCondition 11:availableReplicas:i
StatefulSetCondition 1:type:s 2:status:s 3:lastTransitionTime:time 4:reason:s 5:message:s
DaemonSet 1:metadata:m:ObjectMeta 2:spec:m:DaemonSetSpec 3:status:m:DaemonSetStatus
DaemonSetSpec 1:selector:m:LabelSelector 2:template:m:PodTemplateSpec
  3:updateStrategy:m:DaemonSetUpdateStrategy 4:minReadySeconds:i 6:revisionHistoryLimit:i!
DaemonSetUpdateStrategy 1:type:s 2:rollingUpdate:m:RollingUpdateDaemonSet
RollingUpdateDaemonSet 1:maxUnavailable:ios 2:maxSurge:ios
DaemonSetStatus 1:currentNumberScheduled:i 2:numberMisscheduled:i 3:desiredNumberScheduled:i
  4:numberReady:i 5:observedGeneration:i 6:updatedNumberScheduled:i 7:numberAvailable:i
  8:numberUnavailable:i 9:collisionCount:i 10:conditions:m*:DaemonSetCondition
DaemonSetCondition 1:type:s 2:status:s 3:lastTransitionTime:time 4:reason:s 5:message:s
Job 1:metadata:m:ObjectMeta 2:spec:m:JobSpec 3:status:m:JobStatus
JobSpec 1:parallelism:i! 2:completions:i! 3:activeDeadlineSeconds:i! 4:selector:m:LabelSelector
  5:manualSelector:t! 6:template:m:PodTemplateSpec 7:backoffLimit:i! 8:ttlSecondsAfterFinished:i!
  9:completionMode:s 10:suspend:t! 11:podFailurePolicy:m:PodFailurePolicy
  12:backoffLimitPerIndex:i! 13:maxFailedIndexes:i! 14:podReplacementPolicy:s 15:managedBy:s
  16:successPolicy:m:SuccessPolicy 17:scheduling:m:JobSchedulingConfiguration
PodFailurePolicy 1:rules:m*:PodFailurePolicyRule
PodFailurePolicyRule 1:action:s 2:onExitCodes:m:PodFailurePolicyOnExitCodesRequirement
  3:onPodConditions:m*:PodFailurePolicyOnPodConditionsPattern
PodFailurePolicyOnExitCodesRequirement 1:containerName:s 2:operator:s 3:values:i*
PodFailurePolicyOnPodConditionsPattern 1:type:s 2:status:s
SuccessPolicy 1:rules:m*:SuccessPolicyRule
SuccessPolicyRule 1:succeededIndexes:s 2:succeededCount:i
JobSchedulingConfiguration
JobStatus 1:conditions:m*:JobCondition 2:startTime:time 3:completionTime:time 4:active:i
  5:succeeded:i 6:failed:i 7:completedIndexes:s
  8:uncountedTerminatedPods:m:UncountedTerminatedPods 9:ready:i 10:failedIndexes:s
  11:terminating:i
JobCondition 1:type:s 2:status:s 3:lastProbeTime:time 4:lastTransitionTime:time 5:reason:s
  6:message:s
UncountedTerminatedPods 1:succeeded:s* 2:failed:s*
CronJob 1:metadata:m:ObjectMeta 2:spec:m:CronJobSpec 3:status:m:CronJobStatus
CronJobSpec 1:schedule:s 2:startingDeadlineSeconds:i! 3:concurrencyPolicy:s 4:suspend:t!
  5:jobTemplate:m:JobTemplateSpec 6:successfulJobsHistoryLimit:i! 7:failedJobsHistoryLimit:i!
  8:timeZone:s
JobTemplateSpec 1:metadata:m:ObjectMeta 2:spec:m:JobSpec
CronJobStatus 1:active:m*:ObjectReference 4:lastScheduleTime:time 5:lastSuccessfulTime:time
ObjectReference 1:kind:s 2:namespace:s 3:name:s 4:uid:s 5:apiVersion:s 6:resourceVersion:s
  7:fieldPath:s
Pod 1:metadata:m:ObjectMeta 2:spec:m:PodSpec 3:status:m:PodStatus
PodStatus 1:phase:s 2:conditions:m*:PodCondition 3:message:s 4:reason:s 5:hostIP:s 6:podIP:s
  7:startTime:time 8:containerStatuses:m*:ContainerStatus 9:qosClass:s
  10:initContainerStatuses:m*:ContainerStatus 11:nominatedNodeName:s 12:podIPs:m*:PodIP
  13:ephemeralContainerStatuses:m*:ContainerStatus 14:resize:s
  15:resourceClaimStatuses:m*:PodResourceClaimStatus 16:hostIPs:m*:HostIP 17:observedGeneration:i
  18:extendedResourceClaimStatus:m:PodExtendedResourceClaimStatus 19:allocatedResources:mq
  20:resources:m:ResourceRequirements
  21:nodeAllocatableResourceClaimStatuses:m*:NodeAllocatableResourceClaimStatus
  22:volumeHealth:m*:PodVolumeHealth
PodCondition 1:type:s 2:status:s 3:lastProbeTime:time 4:lastTransitionTime:time 5:reason:s
  6:message:s 7:observedGeneration:i
HostIP 1:ip:s
PodIP 1:ip:s
ContainerStatus 1:name:s 2:state:m:ContainerState 3:lastState:m:ContainerState 4:ready:t
  5:restartCount:i 6:image:s 7:imageID:s 8:containerID:s 9:started:t 10:allocatedResources:mq
  11:resources:m:ResourceRequirements 12:volumeMounts:m*:VolumeMountStatus 13:user:m:ContainerUser
  14:allocatedResourcesStatus:m*:ResourceStatus 15:stopSignal:s
ContainerState 1:waiting:m:ContainerStateWaiting 2:running:m:ContainerStateRunning
  3:terminated:m:ContainerStateTerminated
ContainerStateWaiting 1:reason:s 2:message:s
ContainerStateRunning 1:startedAt:time
ContainerStateTerminated 1:exitCode:i 2:signal:i 3:reason:s 4:message:s 5:startedAt:time
  6:finishedAt:time 7:containerID:s
VolumeMountStatus 1:name:s 2:mountPath:s 3:readOnly:t 4:recursiveReadOnly:s
  5:volumeStatus:m:VolumeStatus
VolumeStatus 1:image:m:ImageVolumeStatus
ImageVolumeStatus 1:imageRef:s
ContainerUser 1:linux:m:LinuxContainerUser
LinuxContainerUser 1:uid:i 2:gid:i 3:supplementalGroups:i*
ResourceStatus 1:name:s 2:resources:m*:ResourceHealth
ResourceHealth 1:resourceID:s 2:health:s 6:message:s
PodResourceClaimStatus 1:name:s 2:resourceClaimName:s
PodExtendedResourceClaimStatus 1:requestMappings:m*:ContainerExtendedResourceRequest
  2:resourceClaimName:s
ContainerExtendedResourceRequest 1:containerName:s 2:resourceName:s 3:requestName:s
NodeAllocatableResourceClaimStatus 1:resourceClaimName:s 2:containers:s*
  4:mapping:m*:NodeAllocatableMappedResources 5:overhead:m*:NodeAllocatableOverheadResources
NodeAllocatableMappedResources 1:name:s 2:quantity:q
NodeAllocatableOverheadResources 1:name:s 2:perPod:q 3:perContainer:q
PodVolumeHealth 1:name:s 2:healthConditions:m*:VolumeHealthCondition 3:lastTransitionTime:time
Namespace 1:metadata:m:ObjectMeta 2:spec:m:NamespaceSpec 3:status:m:NamespaceStatus
NamespaceSpec 1:finalizers:s*
NamespaceStatus 1:phase:s 2:conditions:m*:NamespaceCondition
NamespaceCondition 1:type:s 2:status:s 4:lastTransitionTime:time 5:reason:s 6:message:s
Secret 1:metadata:m:ObjectMeta 2:data:mb 3:type:s 4:stringData:ms 5:immutable:t
ConfigMap 1:metadata:m:ObjectMeta 2:data:ms 3:binaryData:mb 4:immutable:t
Service 1:metadata:m:ObjectMeta 2:spec:m:ServiceSpec 3:status:m:ServiceStatus
ServiceSpec 1:ports:m*:ServicePort 2:selector:ms 3:clusterIP:s 18:clusterIPs:s* 4:type:s
  5:externalIPs:s* 7:sessionAffinity:s 8:loadBalancerIP:s 9:loadBalancerSourceRanges:s*
  10:externalName:s 11:externalTrafficPolicy:s 12:healthCheckNodePort:i
  13:publishNotReadyAddresses:t 14:sessionAffinityConfig:m:SessionAffinityConfig
  19:ipFamilies:s* 17:ipFamilyPolicy:s! 20:allocateLoadBalancerNodePorts:t!
  21:loadBalancerClass:s! 22:internalTrafficPolicy:s! 23:trafficDistribution:s!
ServicePort 1:name:s 2:protocol:s 6:appProtocol:s! 3:port:i 4:targetPort:ios 5:nodePort:i
SessionAffinityConfig 1:clientIP:m:ClientIPConfig
ClientIPConfig 1:timeoutSeconds:i!
ServiceStatus 1:loadBalancer:m:LoadBalancerStatus 2:conditions:m*:Condition
LoadBalancerStatus 1:ingress:m*:LoadBalancerIngress
LoadBalancerIngress 1:ip:s 2:hostname:s 3:ipMode:s! 4:ports:m*:PortStatus
PortStatus 1:port:i 2:protocol:s 3:error:s!
Event 1:metadata:m:ObjectMeta 2:involvedObject:m:ObjectReference 3:reason:s 4:message:s
  5:source:m:EventSource 6:firstTimestamp:time 7:lastTimestamp:time 8:count:i 9:type:s
  10:eventTime:mtime 11:series:m:EventSeries 12:action:s 13:related:m:ObjectReference
  14:reportingComponent:s 15:reportingInstance:s
EventSource 1:component:s 2:host:s
EventSeries 1:count:i 2:lastObservedTime:mtime
)tbl";
}

}  // namespace stash::api::pb
