#include "stash/agent/pod_logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <thread>

#include "stash/kube/events.h"

namespace stash::agent {

CriLogSource::CriLogSource(std::string path, api::PodLogOptions options,
                           std::function<bool()> running, SystemTime now)
    : path_(std::move(path)), opts_(std::move(options)), running_(std::move(running)) {
  if (opts_.since_seconds) {
    since_ = kube::FormatTime(now - std::chrono::seconds(*opts_.since_seconds));
  } else if (opts_.since_time) {
    since_ = *opts_.since_time;
  }
}

bool CriLogSource::ParseLine(std::string_view raw, Line* out) {
  size_t a = raw.find(' ');
  if (a == std::string_view::npos) return false;
  size_t b = raw.find(' ', a + 1);
  if (b == std::string_view::npos) return false;
  std::string_view tag = raw.substr(b + 1, 2);
  if (tag != "F " && tag != "P " && raw.substr(b + 1) != "F" && raw.substr(b + 1) != "P") {
    return false;
  }
  out->time = std::string(raw.substr(0, a));
  out->partial = raw[b + 1] == 'P';
  out->text = b + 3 <= raw.size() ? std::string(raw.substr(b + 3)) : "";
  return true;
}

std::string CriLogSource::Render(std::string_view data, bool first) {
  // Whole lines of the log (a partial P line joins the next).
  std::vector<Line> lines;
  std::string joined;
  size_t pos = 0;
  bool open = false;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string_view::npos) break;
    Line l;
    if (ParseLine(data.substr(pos, nl - pos), &l)) {
      if (open) {
        lines.back().text += l.text;
        lines.back().partial = l.partial;  // the joined line ends where its last part does
      } else {
        lines.push_back(l);
      }
      open = l.partial;
    }
    pos = nl + 1;
  }
  size_t start = 0;
  if (first && !since_.empty()) {
    while (start < lines.size() && lines[start].time.substr(0, 19) < since_.substr(0, 19)) ++start;
  }
  if (first && opts_.tail_lines && int64_t(lines.size() - start) > *opts_.tail_lines) {
    start = lines.size() - size_t(std::max<int64_t>(0, *opts_.tail_lines));
  }
  std::string out;
  for (size_t i = start; i < lines.size(); ++i) {
    if (opts_.timestamps) out += lines[i].time + " ";
    out += lines[i].text;
    if (!lines[i].partial) out += '\n';
  }
  return out;
}

std::string ReadLogFrom(const std::string& path, uint64_t* offset) {
  std::string data;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return data;
  char buf[65536];
  ssize_t n;
  while ((n = pread(fd, buf, sizeof buf, off_t(*offset))) > 0) {
    data.append(buf, size_t(n));
    *offset += uint64_t(n);
  }
  close(fd);
  return data;
}

void CriLogSource::ReadMore() {
  std::string data = pending_ + ReadLogFrom(path_, &offset_);
  size_t last = data.rfind('\n');
  if (last == std::string::npos) {
    pending_ = std::move(data);
    return;
  }
  pending_ = data.substr(last + 1);
  out_ += Render(std::string_view(data).substr(0, last + 1), !started_);
  started_ = true;
}

bool CriLogSource::Next(std::string* chunk, std::chrono::steady_clock::time_point until) {
  while (true) {
    if (out_.empty() && !done_) {
      // Decide whether more can come before reading: a line the container
      // writes just before exiting is then still read.
      bool more = opts_.follow && running_();
      ReadMore();
      if (!more) done_ = true;
    }
    if (!out_.empty()) {
      if (opts_.limit_bytes) {
        int64_t left = *opts_.limit_bytes - sent_;
        if (left <= 0) return false;
        if (int64_t(out_.size()) > left) {
          out_.resize(size_t(left));
          done_ = true;
        }
      }
      sent_ += int64_t(out_.size());
      chunk->append(out_);
      out_.clear();
      return !done_;
    }
    if (done_) return false;
    if (std::chrono::steady_clock::now() >= until) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::unique_ptr<api::ByteSource>> KubeletPodStreams::Logs(
    const api::ContainerRef& c, const api::PodLogOptions& options) {
  auto found = kubelet_.FindContainer(c.ns, c.pod, c.container, options.previous);
  if (!found.ok()) return found.status();
  std::string id = found->id;
  Kubelet& k = kubelet_;
  bool previous = options.previous;
  auto running = [&k, c, id, previous] {
    if (previous) return false;
    auto now = k.FindContainer(c.ns, c.pod, c.container, false);
    return now.ok() && now->id == id && now->running;
  };
  return std::unique_ptr<api::ByteSource>(
      std::make_unique<CriLogSource>(found->log_path, options, running, clock_.Now()));
}

Status KubeletPodStreams::CanExec(const api::ContainerRef& c) {
  auto found = kubelet_.FindContainer(c.ns, c.pod, c.container, false);
  if (!found.ok()) return found.status();
  if (!found->running) {
    return InvalidError("unable to upgrade connection: container not found (\"" + c.container +
                        "\")");
  }
  return Status::Ok();
}

Result<std::unique_ptr<api::ExecProcess>> KubeletPodStreams::Exec(const api::ContainerRef& c,
                                                                  const api::ExecCommand& command) {
  if (Status s = CanExec(c); !s.ok()) return s;
  auto found = kubelet_.FindContainer(c.ns, c.pod, c.container, false);
  if (!found.ok()) return found.status();
  return runtime_.Exec(found->id, command.argv, command.tty, command.stdin);
}

}  // namespace stash::agent
