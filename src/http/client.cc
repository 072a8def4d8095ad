#include "stash/http/client.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

#include "stash/core/cloexec.h"
#include "stash/core/strings.h"

namespace stash::http {
namespace {

// libcurl opens its sockets without SOCK_CLOEXEC; a connection must not leak
// into the processes the embedded node starts. By now the handle's wake-up
// socket pair exists too, which no option reaches.
curl_socket_t OpenCloseOnExecSocket(void*, curlsocktype, curl_sockaddr* a) {
  curl_socket_t fd = ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
  MarkAllCloseOnExec();
  return fd;
}

void GlobalInit() {
  static const bool done = [] {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return true;
  }();
  (void)done;
}

struct Transfer {
  const Request* request = nullptr;
  const std::atomic<bool>* cancel = nullptr;  // the request's, or the client's
  size_t read_pos = 0;
  std::vector<uint8_t>* sink = nullptr;
  bool sink_started = false;
  bool stream_stopped = false;  // the stream callback returned false
  Response response;
  std::string error_body;
};

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' '))
    s.remove_suffix(1);
  return std::string(s);
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    // A new response (after 100 Continue or a redirect) starts afresh.
    t->response.headers.clear();
    auto sp = line.find(' ');
    t->response.status =
        sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    t->response.headers[AsciiLower(std::string(line.substr(0, colon)))] =
        Trim(line.substr(colon + 1));
  }
  return size * n;
}

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->request->stream) {
    if (t->request->stream(std::string_view(data, len))) return len;
    t->stream_stopped = true;
    return 0;  // makes libcurl end the transfer with CURLE_WRITE_ERROR
  }
  bool success = t->response.status >= 200 && t->response.status < 300;
  if (!success && t->request->any_status) {
    t->response.body.append(data, len);
    return len;
  }
  if (!success) {
    // Error bodies are only for messages; keep them small.
    size_t room = 16384 - std::min<size_t>(16384, t->error_body.size());
    t->error_body.append(data, std::min(len, room));
    return len;
  }
  if (t->sink == nullptr) {
    t->response.body.append(data, len);
    return len;
  }
  if (!t->sink_started) {
    t->sink_started = true;
    t->sink->clear();
    auto it = t->response.headers.find("content-length");
    if (it != t->response.headers.end())
      t->sink->reserve(std::strtoull(it->second.c_str(), nullptr, 10));
  }
  t->sink->insert(t->sink->end(), data, data + len);
  return len;
}

size_t OnRead(char* buffer, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const auto& body = *t->request->body;
  size_t len = std::min(size * n, body.size() - t->read_pos);
  std::memcpy(buffer, body.data() + t->read_pos, len);
  t->read_pos += len;
  return len;
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->request->body->size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->read_pos = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

std::string PathOf(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  if (slash == std::string::npos) return "/";
  return url.substr(slash, url.find('?', slash) - slash);
}

// The interesting part of an error body: <Code>/<Message> of S3 and Azure XML,
// "message" of GCS JSON, else the start of the text.
std::string ErrorDetail(const std::string& body) {
  auto tag = [&](const std::string& name) -> std::string {
    auto a = body.find("<" + name + ">");
    if (a == std::string::npos) return "";
    a += name.size() + 2;
    auto b = body.find("</" + name + ">", a);
    return b == std::string::npos ? "" : body.substr(a, b - a);
  };
  std::string code = tag("Code"), msg = tag("Message");
  if (!code.empty() || !msg.empty()) {
    auto nl = msg.find('\n');  // Azure appends RequestId/Time lines
    return code + (code.empty() || msg.empty() ? "" : ": ") + msg.substr(0, nl);
  }
  if (auto m = body.find("\"message\""); m != std::string::npos) {
    auto q1 = body.find('"', body.find(':', m) + 1);
    auto q2 = q1 == std::string::npos ? q1 : body.find('"', q1 + 1);
    if (q2 != std::string::npos) return body.substr(q1 + 1, q2 - q1 - 1);
  }
  std::string s = Trim(body.substr(0, 200));
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

std::string Hint(long status) {
  if (status == 401 || status == 403) return " (check the credentials and their permissions)";
  if (status >= 500) return " (server-side failure; retrying may help)";
  return "";
}

}  // namespace

Status StatusError(long status, std::string message) {
  switch (status) {
    case 404:
      return NotFoundError(std::move(message));
    case 401:
      return UnauthorizedError(std::move(message));
    case 403:
      return ForbiddenError(std::move(message));
    case 409:
      return ConflictError(std::move(message));
    case 412:
      return FailedPreconditionError(std::move(message));
    case 408:
      return UnavailableError(std::move(message));
    case 429:
      return Status(Code::kResourceExhausted, std::move(message), true);
    case 501:
      return UnsupportedError(std::move(message));
    case 507:
      return ResourceExhaustedError(std::move(message));
    default:
      break;
  }
  if (status >= 500) return UnavailableError(std::move(message));
  return InvalidError(std::move(message));
}

std::string Escape(std::string_view text) {
  char* e = curl_easy_escape(nullptr, text.data(), static_cast<int>(text.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

Client::Client(std::string location, Options options)
    : location_(std::move(location)), options_(std::move(options)) {
  GlobalInit();
}

Client::~Client() {
  for (const Handle& h : idle_) {
    curl_multi_cleanup(static_cast<CURLM*>(h.multi));
    curl_easy_cleanup(static_cast<CURL*>(h.easy));
  }
}

void Client::AddSecret(const std::string& secret) {
  // Very short strings would redact innocent words; they are not secrets
  // worth the name anyway.
  if (secret.size() >= 4) secrets_.push_back(secret);
}

std::string Client::Scrub(std::string message) const {
  for (const std::string& s : secrets_) {
    for (size_t pos = message.find(s); pos != std::string::npos; pos = message.find(s, pos)) {
      message.replace(pos, s.size(), "[redacted]");
    }
  }
  return message;
}

Client::Handle Client::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      Handle h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  Handle h{curl_easy_init(), curl_multi_init()};
  // The multi handle's wake-up socket pair is opened without close-on-exec.
  MarkAllCloseOnExec();
  if (h.easy == nullptr || h.multi == nullptr) {
    if (h.multi) curl_multi_cleanup(static_cast<CURLM*>(h.multi));
    if (h.easy) curl_easy_cleanup(static_cast<CURL*>(h.easy));
    return {};
  }
  return h;
}

void Client::Release(Handle handle) {
  // The multi handle keeps the connection cache, which is the point of
  // pooling; reset clears only the easy handle's options.
  curl_easy_reset(static_cast<CURL*>(handle.easy));
  std::lock_guard lock(mu_);
  if (idle_.size() < 64) {
    idle_.push_back(handle);
    return;
  }
  curl_multi_cleanup(static_cast<CURLM*>(handle.multi));
  curl_easy_cleanup(static_cast<CURL*>(handle.easy));
}

void Client::WakeTransfers() {
  std::lock_guard lock(waiting_mu_);
  for (void* multi : waiting_) curl_multi_wakeup(static_cast<CURLM*>(multi));
}

int Client::Perform(Handle h, const std::atomic<bool>* cancel) {
  CURL* curl = static_cast<CURL*>(h.easy);
  CURLM* multi = static_cast<CURLM*>(h.multi);
  if (curl_multi_add_handle(multi, curl) != CURLM_OK) return CURLE_FAILED_INIT;
  {
    // Registered before the first look at `cancel`: a flag set before a
    // wake-up is seen either by that look or thanks to the wake-up.
    std::lock_guard lock(waiting_mu_);
    waiting_.insert(multi);
  }
  CURLcode rc = CURLE_OK;
  bool done = false;
  while (!done) {
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) {
      rc = CURLE_FAILED_INIT;
      break;
    }
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == curl) {
        rc = msg->data.result;
        done = true;
      }
    }
    if (done) break;
    if (cancel != nullptr && cancel->load()) {
      rc = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    // Sleeps until the connection has something to do, curl's own timers
    // (timeouts) are due, or WakeTransfers(); the bound notices a cancel
    // flag set by someone who did not wake us.
    const auto bound = static_cast<int>(options_.cancel_check.count());
    if (curl_multi_poll(multi, nullptr, 0, bound, nullptr) != CURLM_OK) {
      rc = CURLE_FAILED_INIT;
      break;
    }
  }
  {
    std::lock_guard lock(waiting_mu_);
    waiting_.erase(multi);
  }
  curl_multi_remove_handle(multi, curl);
  return rc;
}

namespace {

// Connection, TLS and timeout options of one transfer.
void SetConnection(CURL* curl, const Options& o, const Request& request) {
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, OpenCloseOnExecSocket);
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, o.low_speed_bytes);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(o.low_speed_time.count()));
  const auto timeout = request.timeout.value_or(o.total_timeout);
  if (timeout.count() > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(timeout.count()));
  if (o.accept_compressed) curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  if (!o.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, o.ca_file.c_str());
  auto blob = [&](CURLoption opt, const std::string& pem) {
    if (pem.empty()) return;
    curl_blob b{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(curl, opt, &b);
  };
  blob(CURLOPT_CAINFO_BLOB, o.ca_pem);
  blob(CURLOPT_SSLCERT_BLOB, o.client_cert_pem);
  blob(CURLOPT_SSLKEY_BLOB, o.client_key_pem);
  if (o.insecure_tls) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!request.user.empty() || !request.password.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.password.c_str());
  }
}

// Method, body, callbacks and headers; returns the header list to free.
curl_slist* SetExchange(CURL* curl, Transfer* t) {
  const Request& request = *t->request;
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, t);
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.body.has_value()) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body->size()));
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, t);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, OnSeek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, t);
    if (request.method != "PUT") {
      curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers) {
    std::string line = v.empty() ? k + ";" : k + ": " + v;
    headers = curl_slist_append(headers, line.c_str());
  }
  // No 100-continue round trip: libcurl would wait up to 1 s for an answer
  // before sending any body over 1 KiB, which many servers never send.
  headers = curl_slist_append(headers, "Expect:");
  if (request.method == "POST" && !request.body.has_value()) {
    headers = curl_slist_append(headers, "Content-Length: 0");
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  return headers;
}

}  // namespace

Result<Response> Client::Do(const Request& request, std::vector<uint8_t>* sink) {
  Handle handle = Acquire();
  if (handle.easy == nullptr) return InternalError("libcurl could not create a handle");
  CURL* curl = static_cast<CURL*>(handle.easy);
  Transfer t;
  t.request = &request;
  t.cancel = request.cancel != nullptr ? request.cancel : options_.cancel;
  t.sink = sink;
  char errbuf[CURL_ERROR_SIZE] = {0};
  SetConnection(curl, options_, request);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_slist* headers = SetExchange(curl, &t);
  const auto rc = static_cast<CURLcode>(Perform(handle, t.cancel));
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  long os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  Release(handle);

  if (rc == CURLE_OK || status != 0) answered_.store(true);
  t.response.status = status;
  // A stream its callback stopped, or that ran until its time limit, ended
  // normally.
  const bool stream_ended =
      request.stream && status != 0 && (t.stream_stopped || rc == CURLE_OPERATION_TIMEDOUT);
  if (rc != CURLE_OK && !stream_ended) return TransportError(request, rc, os_errno, errbuf);
  if ((status < 200 || status >= 300) && !request.any_status) {
    const std::string what = request.what.empty() ? PathOf(request.url) : request.what;
    std::string msg =
        location_ + ": " + request.method + " " + what + ": HTTP " + std::to_string(status);
    const std::string detail = ErrorDetail(t.error_body);
    if (!detail.empty()) msg += ": " + detail;
    msg += Hint(status);
    return StatusError(status, Scrub(std::move(msg)));
  }
  if (sink != nullptr && !t.sink_started) sink->clear();  // an empty body
  return std::move(t.response);
}

namespace {

// OpenSSL's text for the TLS alerts a server sends when it does not accept
// the client's certificate (or got none).
bool RefusedClientCertificate(std::string_view msg) {
  for (std::string_view alert :
       {"alert bad certificate", "alert certificate required", "alert unknown ca",
        "alert certificate unknown", "alert certificate expired", "alert certificate revoked"}) {
    if (msg.find(alert) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

Status Client::TransportError(const Request& request, int curl_code, long os_errno,
                              const char* errbuf) const {
  const auto rc = static_cast<CURLcode>(curl_code);
  const std::string what = request.what.empty() ? PathOf(request.url) : request.what;
  std::string msg = location_ + ": " + request.method + " " + what + ": " +
                    (errbuf[0] ? errbuf : curl_easy_strerror(rc));
  msg = Scrub(std::move(msg));
  // Unreachable: final while the host never answered (and the options say
  // so), else worth retrying (a restart or a network blip).
  const bool retry_unreachable = answered_.load() || !options_.unreachable_is_final;
  switch (rc) {
    case CURLE_ABORTED_BY_CALLBACK:
      return CancelledError(msg + " (cancelled)");
    case CURLE_OPERATION_TIMEDOUT:
      return TimeoutError(msg + " (the server stopped answering)");
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      // Retrying a name that never resolved only delays the answer.
      return UnavailableError(msg + " (check the host name in the URL or endpoint)")
          .SetRetryable(retry_unreachable);
    case CURLE_COULDNT_CONNECT:
      // curl says only "Couldn't connect"; the reason tells a stopped
      // server (refused) from a filtered or unreachable one.
      if (os_errno != 0) msg += std::string(" (") + std::strerror(static_cast<int>(os_errno)) + ")";
      return UnavailableError(msg + " (is the server running and reachable?)")
          .SetRetryable(retry_unreachable);
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SSL_CONNECT_ERROR:
      // A TLS alert about our certificate is the server's refusal, which no
      // retry changes (a mutual-TLS store without, or with the wrong, client
      // certificate).
      if (RefusedClientCertificate(msg)) {
        return FailedPreconditionError(msg +
                                       " (the server refused this client's TLS certificate: give "
                                       "one it accepts with --tls-client-cert)");
      }
      return UnavailableError(msg);
    case CURLE_SSL_CERTPROBLEM:
      return FailedPreconditionError(msg + " (check the --tls-client-cert file)");
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return UnavailableError(msg);
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      return FailedPreconditionError(
          msg + " (give the server's CA certificate, or allow insecure TLS for test servers)");
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return InvalidError(msg);
    default:
      return InternalError(msg);
  }
}

}  // namespace stash::http
