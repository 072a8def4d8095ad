// Protobuf: decoding of the Kubernetes protobuf request bodies kubectl 1.32+
// sends for its typed-client calls (`kubectl create ns`, `kubectl create
// secret`, ...), so the server can store them as JSON. Answers stay JSON
// (kubectl accepts them), so there is no encoder.
//
// Wire format: the 4 magic bytes "k8s\0", then a runtime.Unknown message
// {1 typeMeta{1 apiVersion, 2 kind}, 2 raw (the object's own message),
// 3 contentEncoding, 4 contentType}. Decoded kinds: Namespace, Secret,
// ConfigMap, DeleteOptions, and the workload kinds `kubectl create
// deployment|job|cronjob` send (Deployment, StatefulSet, DaemonSet, Job,
// CronJob, Pod, PersistentVolumeClaim, Event), with their full ObjectMeta and
// PodSpec. Bytes fields become base64 strings, as in JSON; Go-embedded structs
// (a Volume's source, ...) are inlined. Empty strings, zero numbers and false
// are omitted (Go's omitempty) except for pointer fields such as replicas, so
// the result equals the JSON body kubectl 1.31 sends for the same command.
//
// Thread-safety: stateless free functions; safe from any thread.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "stash/core/result.h"

namespace stash::api {

inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";

// True when `body` starts with the "k8s\0" magic.
bool HasProtobufMagic(std::string_view body);

// Decodes a whole request body. kInvalid for malformed input (truncated
// varint, bad wire type, missing magic, ...), kUnsupported for a kind this
// decoder does not know (the server answers 415 UnsupportedMediaType).
// The result carries "apiVersion" and "kind" from the envelope; its strings
// are valid UTF-8 (invalid bytes become U+FFFD, as kube-apiserver encodes them).
Result<nlohmann::json> DecodeProtobufObject(std::string_view body);

}  // namespace stash::api
