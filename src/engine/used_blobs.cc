// FindUsedBlobs (declared in prune.h): the blobs a set of trees references,
// loading trees in parallel.
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "stash/engine/prune.h"
#include "stash/engine/walker.h"

namespace stash::engine {

Status FindUsedBlobs(repo::Repository& repo, const std::vector<Id>& roots,
                     std::set<BlobKey>* used) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Id> queue;
  int loading = 0;
  Status failed;
  for (const Id& root : roots) {
    if (used->insert({root, repo::BlobKind::kTree}).second) queue.push_back(root);
  }
  auto work = [&] {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] { return !queue.empty() || loading == 0 || !failed.ok(); });
      if (!failed.ok() || queue.empty()) break;  // failed, or nothing left anywhere
      Id tree = queue.front();
      queue.pop_front();
      ++loading;
      lock.unlock();
      auto nodes = LoadTree(repo, tree);
      lock.lock();
      --loading;
      if (!nodes.ok()) {
        if (failed.ok()) failed = nodes.status();
        break;
      }
      for (const format::Node& n : *nodes) {
        if (n.type == format::NodeType::kFile && n.content) {
          for (const Id& b : *n.content) used->insert({b, repo::BlobKind::kData});
        }
        if (n.subtree && used->insert({*n.subtree, repo::BlobKind::kTree}).second) {
          queue.push_back(*n.subtree);
        }
      }
      cv.notify_all();
    }
    cv.notify_all();
  };
  const int threads = std::clamp(repo.backend().Connections(), 1, 16);
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return failed;
}

}  // namespace stash::engine
