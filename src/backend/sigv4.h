// AWS Signature Version 4 for S3 requests (header-based, signed payload
// hash). Private to the backend layer; unit-tested against AWS's published
// examples.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace stash::backend {

struct SigV4Request {
  std::string method;
  std::string canonical_uri;  // the path exactly as sent (already percent-encoded)
  std::vector<std::pair<std::string, std::string>> query;    // raw (unencoded) pairs
  std::vector<std::pair<std::string, std::string>> headers;  // all to be signed; must
                                                             // include host and x-amz-date
  std::string payload_sha256_hex;                            // or "UNSIGNED-PAYLOAD"
};

struct SigV4Key {
  std::string access_key_id;
  std::string secret_access_key;
  std::string region;
  std::string service = "s3";
};

// The value of the Authorization header. `amz_date` is the x-amz-date value
// (YYYYMMDDTHHMMSSZ).
std::string SignV4(const SigV4Request& request, const SigV4Key& key, const std::string& amz_date);

// The canonical query string: keys and values percent-encoded, sorted.
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> query);

}  // namespace stash::backend
