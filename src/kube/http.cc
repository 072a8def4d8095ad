#include "http.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <memory>
#include <mutex>
#include <vector>

#include "stash/core/cloexec.h"

namespace stash::kube {

namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* req;
  std::string collected;
  bool sink_stopped = false;
};

size_t OnWrite(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->req->sink) {
    if (!t->req->sink(std::string_view(data, len))) {
      t->sink_stopped = true;
      return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
    }
  } else {
    t->collected.append(data, len);
  }
  return len;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return (t->req->cancel && t->req->cancel->load()) ? 1 : 0;
}

// libcurl opens its sockets without SOCK_CLOEXEC; a connection must not leak
// into the processes the embedded node starts. By now the handle's wake-up
// socket pair exists too, which no option reaches.
curl_socket_t OpenCloseOnExecSocket(void*, curlsocktype, curl_sockaddr* a) {
  curl_socket_t fd = ::socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
  MarkAllCloseOnExec();
  return fd;
}

using HandlePtr = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

std::mutex pool_mu;
std::vector<CURL*>& Pool() {
  static auto* pool = new std::vector<CURL*>();  // never destroyed: used until exit
  return *pool;
}

HandlePtr TakeHandle() {
  {
    std::lock_guard<std::mutex> lock(pool_mu);
    if (!Pool().empty()) {
      CURL* h = Pool().back();
      Pool().pop_back();
      curl_easy_reset(h);
      return HandlePtr(h, curl_easy_cleanup);
    }
  }
  return HandlePtr(curl_easy_init(), curl_easy_cleanup);
}

void GiveBack(HandlePtr h) {
  if (!h) return;
  std::lock_guard<std::mutex> lock(pool_mu);
  if (Pool().size() < 32) Pool().push_back(h.release());
}

void SetBlob(CURL* h, CURLoption opt, const std::string& pem) {
  curl_blob blob{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
  curl_easy_setopt(h, opt, &blob);
}

}  // namespace

Result<HttpResponse> Perform(const KubeConfig& cfg, const HttpRequest& req) {
  GlobalInitOnce();
  // Handles are pooled and reset between requests: a handle's connection
  // cache keeps the TLS connection to the API server open, so a controller
  // does not pay a handshake for every GET. A request made from inside a
  // watch's callback takes another handle than the watch's.
  HandlePtr handle = TakeHandle();
  if (!handle) return InternalError("curl_easy_init failed");
  CURL* h = handle.get();
  struct Return {
    HandlePtr& h;
    ~Return() { GiveBack(std::move(h)); }
  } give_back{handle};
  Transfer transfer{&req, {}, false};
  std::string url = cfg.server + req.path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, OpenCloseOnExecSocket);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  if (req.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, req.timeout_seconds);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  if (!cfg.ca_pem.empty()) SetBlob(h, CURLOPT_CAINFO_BLOB, cfg.ca_pem);
  if (cfg.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!cfg.client_cert_pem.empty()) SetBlob(h, CURLOPT_SSLCERT_BLOB, cfg.client_cert_pem);
  if (!cfg.client_key_pem.empty()) SetBlob(h, CURLOPT_SSLKEY_BLOB, cfg.client_key_pem);

  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "User-Agent: stash-operator");
  // libcurl would otherwise wait up to 1 s for a "100 Continue" before sending
  // any body over 1 KiB (a Deployment update), which no API server sends.
  headers = curl_slist_append(headers, "Expect:");
  std::string auth;
  if (!cfg.token.empty()) {
    auth = "Authorization: Bearer " + cfg.token;
    headers = curl_slist_append(headers, auth.c_str());
  }
  std::string ctype;
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH") {
    ctype = "Content-Type: " + req.content_type;
    headers = curl_slist_append(headers, ctype.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.body.size()));
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                           curl_slist_free_all);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

  CURLcode rc = curl_easy_perform(h);
  HttpResponse resp;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  if (rc != CURLE_OK) {
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
      return CancelledError(req.method + " " + req.path + ": cancelled");
    }
    if (rc == CURLE_WRITE_ERROR && transfer.sink_stopped) {
      resp.body = std::move(transfer.collected);
      return resp;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT && req.sink) {
      resp.body = std::move(transfer.collected);
      return resp;  // a watch that ran its course
    }
    return UnavailableError(req.method + " " + url + ": " + curl_easy_strerror(rc) +
                            " (is the API server running and the kubeconfig right?)");
  }
  resp.body = std::move(transfer.collected);
  return resp;
}

}  // namespace stash::kube
