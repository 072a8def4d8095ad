// ObjectStoreOptions: the part of the S3, Azure and GCS configurations they
// have in common — where in the bucket/container the repository lives, how
// to talk HTTP, how many requests may run at once and how long listing pages
// are.
//
// Thread-safety: a plain value.
#pragma once

#include <string>

#include "stash/http/client.h"

namespace stash::backend {

struct ObjectStoreOptions {
  std::string prefix;  // without leading/trailing '/'
  http::Options http;
  int connections = 5;
  int list_page_size = 1000;  // names per listing page; small values exercise paging in tests
};

}  // namespace stash::backend
