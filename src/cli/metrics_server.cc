#include "metrics_server.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <fstream>
#include <set>
#include <sstream>

#include "stash/core/metrics.h"

namespace stash::cli {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr int kMaxConnections = 16;

Result<tcp::endpoint> ParseBind(const std::string& bind) {
  const size_t colon = bind.rfind(':');
  if (colon == std::string::npos) {
    return InvalidError("--metrics-listen must be [HOST]:PORT, e.g. :8080 (got '" + bind + "')");
  }
  std::string host = bind.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  const std::string port_text = bind.substr(colon + 1);
  char* end = nullptr;
  const long port = std::strtol(port_text.c_str(), &end, 10);
  boost::system::error_code ec;
  const auto addr = net::ip::make_address(host, ec);
  if (port_text.empty() || *end || port < 0 || port > 65535 || ec) {
    return InvalidError(
        "--metrics-listen must be an IP address and port, e.g. :8080 or "
        "127.0.0.1:9090 (got '" +
        bind + "')");
  }
  return tcp::endpoint(addr, static_cast<unsigned short>(port));
}

}  // namespace

struct MetricsServer::Impl {
  net::io_context io;
  tcp::acceptor acceptor{io};
  std::function<std::string()> source;
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;
  std::set<int> open_fds;  // connections, shut down at stop
  std::thread accept_thread;

  void AcceptLoop() {
    while (!stopping) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || active < kMaxConnections; });
        if (stopping) return;
      }
      boost::system::error_code ec;
      tcp::socket socket(io);
      acceptor.accept(socket, ec);
      if (ec) {
        if (stopping) return;
        continue;
      }
      {
        std::lock_guard lock(mu);
        ++active;
        open_fds.insert(socket.native_handle());
      }
      std::thread([this, s = std::move(socket)]() mutable {
        const int fd = s.native_handle();
        Serve(s);
        std::lock_guard lock(mu);
        open_fds.erase(fd);
        boost::system::error_code ignored;
        s.close(ignored);
        --active;
        cv.notify_all();
      }).detach();
    }
  }

  void Serve(tcp::socket& socket) {
    timeval tv{10, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    boost::beast::flat_buffer buffer;
    while (!stopping) {
      http::request_parser<http::empty_body> parser;
      parser.header_limit(16 * 1024);
      boost::system::error_code ec;
      http::read(socket, buffer, parser, ec);
      if (ec) break;
      const auto& req = parser.get();
      http::response<http::string_body> res;
      res.version(req.version());
      res.keep_alive(req.keep_alive());
      res.set(http::field::server, "stash");
      std::string target(req.target());
      if (size_t q = target.find('?'); q != std::string::npos) target.resize(q);
      if ((req.method() == http::verb::get || req.method() == http::verb::head) &&
          target == "/metrics") {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        res.body() = source();
      } else {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = "404 page not found: metrics are at /metrics\n";
      }
      res.prepare_payload();
      if (req.method() == http::verb::head) res.body().clear();
      http::write(socket, res, ec);
      if (ec || !res.keep_alive()) break;
    }
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
  }
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& bind,
                                                            std::function<std::string()> source) {
  STASH_ASSIGN_OR_RETURN(tcp::endpoint ep, ParseBind(bind));
  auto impl = std::make_unique<Impl>();
  impl->source = std::move(source);
  boost::system::error_code ec;
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(64, ec);
  if (ec) {
    return UnavailableError("serving metrics on " + bind + ": " + ec.message() +
                            " (is the port in use? choose another with --metrics-listen)");
  }
  const int port = impl->acceptor.local_endpoint(ec).port();
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->AcceptLoop(); });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl), port));
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl, int port)
    : impl_(std::move(impl)), port_(port) {}

MetricsServer::~MetricsServer() {
  impl_->stopping = true;
  impl_->cv.notify_all();
  boost::system::error_code ec;
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);  // wakes accept()
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  impl_->acceptor.close(ec);
  // Connection threads hold `impl_`: wake them and wait until they end.
  std::unique_lock lock(impl_->mu);
  for (int fd : impl_->open_fds) ::shutdown(fd, SHUT_RDWR);
  impl_->cv.wait(lock, [&] { return impl_->active == 0; });
}

namespace {

std::string ReadProcessMetrics() {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return "";
  std::istringstream fields(stat.substr(paren + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  // After "pid (comm) ": state is field 3, utime 14, stime 15, starttime 22,
  // vsize 23, rss 24 (1-based over the whole line).
  if (f.size() < 22) return "";
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
  const double start_ticks = std::stod(f[19]);
  double boot = 0;
  std::ifstream st("/proc/stat");
  for (std::string line; std::getline(st, line);) {
    if (line.rfind("btime ", 0) == 0) boot = std::stod(line.substr(6));
  }
  size_t fds = 0;
  if (DIR* d = opendir("/proc/self/fd")) {
    while (readdir(d)) ++fds;
    closedir(d);
    fds = fds >= 3 ? fds - 3 : 0;  // ".", ".." and the directory's own descriptor
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  MetricsRegistry m;
  m.Add("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", {}, cpu);
  m.Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
          std::stod(f[21]) * page);
  m.Gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {}, std::stod(f[20]));
  m.Gauge("process_open_fds", "Number of open file descriptors.", {}, static_cast<double>(fds));
  m.Gauge("process_max_fds", "Maximum number of open file descriptors.", {},
          static_cast<double>(lim.rlim_cur));
  m.Gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
          {}, boot + start_ticks / ticks);
  return m.Exposition();
}

}  // namespace

std::string ProcessMetrics() {
  try {  // std::stod on what /proc says; a surprise there costs only these metrics
    return ReadProcessMetrics();
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace stash::cli
