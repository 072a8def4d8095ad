#include "certs.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "stash/core/id.h"

namespace stash::api {

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Status SslError(std::string_view what) {
  return InternalError("creating API server TLS credentials: " + std::string(what) +
                       " failed in OpenSSL");
}

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    return SslError("PEM_write_bio_PrivateKey");
  }
  return BioString(bio.get());
}

Result<std::string> CertPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) return SslError("PEM_write_bio_X509");
  return BioString(bio.get());
}

Status AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return SslError("extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return Status::Ok();
}

// Issues a certificate for `key` named `cn`, signed by issuer/issuer_key (or
// self-signed when issuer is null).
// `usage` is the extended key usage of a leaf: serverAuth or clientAuth.
Result<X509Ptr> Issue(EVP_PKEY* key, const std::string& cn, X509* issuer, EVP_PKEY* issuer_key,
                      const std::string& sans, Clock& clock, Random& random,
                      const std::string& usage = "serverAuth") {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), random.Next64() >> 1);
  time_t now = std::chrono::system_clock::to_time_t(clock.Now());
  X509_time_adj(X509_getm_notBefore(cert.get()), -3600, &now);
  X509_time_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600, &now);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509* iss = issuer ? issuer : cert.get();
  if (issuer == nullptr) {
    STASH_RETURN_IF_ERROR(AddExt(cert.get(), iss, NID_basic_constraints, "critical,CA:TRUE"));
    STASH_RETURN_IF_ERROR(AddExt(cert.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    STASH_RETURN_IF_ERROR(AddExt(cert.get(), iss, NID_basic_constraints, "critical,CA:FALSE"));
    STASH_RETURN_IF_ERROR(
        AddExt(cert.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment"));
    STASH_RETURN_IF_ERROR(AddExt(cert.get(), iss, NID_ext_key_usage, usage));
    if (!sans.empty()) {
      STASH_RETURN_IF_ERROR(AddExt(cert.get(), iss, NID_subject_alt_name, sans));
    }
  }
  if (!X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256())) {
    return SslError("X509_sign");
  }
  return cert;
}

std::string SansFor(const std::string& host) {
  std::string sans = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (host.empty() || host == "localhost" || host == "127.0.0.1" || host == "::1" ||
      host == "0.0.0.0" || host == "::") {
    return sans;
  }
  unsigned char buf[16];
  bool ip =
      inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
  return sans + (ip ? ",IP:" : ",DNS:") + host;
}

Result<PkeyPtr> LoadKey(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return SslError("reading ca.key");
  return key;
}

Result<X509Ptr> LoadCert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return SslError("reading ca.crt");
  return cert;
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError(errno, "reading " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteFileAtomic(const std::string& path, const std::string& content, int mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError(errno, "creating " + tmp);
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoError(err, "writing " + tmp);
    }
    off += static_cast<size_t>(n);
  }
  ::fchmod(fd, static_cast<mode_t>(mode));
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError(errno, "renaming " + tmp);
  return Status::Ok();
}

Result<Credentials> EnsureCredentials(const std::string& data_dir, const std::string& host,
                                      Clock& clock, Random& random) {
  Credentials c;
  const std::string ca_crt = data_dir + "/ca.crt", ca_key = data_dir + "/ca.key";
  const std::string crt = data_dir + "/server.crt", key = data_dir + "/server.key";
  const std::string sans_file = data_dir + "/server.sans", token_file = data_dir + "/token";
  PkeyPtr ca_pkey;
  X509Ptr ca_cert;
  if (access(ca_crt.c_str(), R_OK) == 0 && access(ca_key.c_str(), R_OK) == 0) {
    STASH_ASSIGN_OR_RETURN(c.ca_pem, ReadFile(ca_crt));
    STASH_ASSIGN_OR_RETURN(std::string ca_key_pem, ReadFile(ca_key));
    STASH_ASSIGN_OR_RETURN(ca_pkey, LoadKey(ca_key_pem));
    STASH_ASSIGN_OR_RETURN(ca_cert, LoadCert(c.ca_pem));
  } else {
    ca_pkey.reset(EVP_EC_gen("P-256"));
    if (!ca_pkey) return SslError("EC key generation");
    STASH_ASSIGN_OR_RETURN(ca_cert,
                           Issue(ca_pkey.get(), "stash-ca", nullptr, nullptr, "", clock, random));
    STASH_ASSIGN_OR_RETURN(c.ca_pem, CertPem(ca_cert.get()));
    STASH_ASSIGN_OR_RETURN(std::string pem, KeyPem(ca_pkey.get()));
    STASH_RETURN_IF_ERROR(WriteFileAtomic(ca_key, pem, 0600));
    STASH_RETURN_IF_ERROR(WriteFileAtomic(ca_crt, c.ca_pem, 0600));
    ::unlink(crt.c_str());  // a new CA invalidates the old serving certificate
  }
  const std::string sans = SansFor(host);
  auto old_sans = ReadFile(sans_file);
  if (access(crt.c_str(), R_OK) == 0 && access(key.c_str(), R_OK) == 0 && old_sans.ok() &&
      *old_sans == sans) {
    STASH_ASSIGN_OR_RETURN(c.cert_pem, ReadFile(crt));
    STASH_ASSIGN_OR_RETURN(c.key_pem, ReadFile(key));
  } else {
    PkeyPtr pkey(EVP_EC_gen("P-256"));
    if (!pkey) return SslError("EC key generation");
    STASH_ASSIGN_OR_RETURN(X509Ptr cert, Issue(pkey.get(), "stash-apiserver", ca_cert.get(),
                                               ca_pkey.get(), sans, clock, random));
    STASH_ASSIGN_OR_RETURN(c.cert_pem, CertPem(cert.get()));
    STASH_ASSIGN_OR_RETURN(c.key_pem, KeyPem(pkey.get()));
    STASH_RETURN_IF_ERROR(WriteFileAtomic(key, c.key_pem, 0600));
    STASH_RETURN_IF_ERROR(WriteFileAtomic(crt, c.cert_pem, 0600));
    STASH_RETURN_IF_ERROR(WriteFileAtomic(sans_file, sans, 0600));
  }
  auto token = ReadFile(token_file);
  if (token.ok() && token->size() >= 32) {
    c.token = *token;
    while (!c.token.empty() && (c.token.back() == '\n' || c.token.back() == '\r'))
      c.token.pop_back();
  } else {
    uint8_t raw[24];
    random.Fill(raw);
    c.token = HexEncode(raw, sizeof raw);
    STASH_RETURN_IF_ERROR(WriteFileAtomic(token_file, c.token + "\n", 0600));
  }
  return c;
}

Result<FrontProxyCredentials> EnsureFrontProxyCredentials(const std::string& data_dir, Clock& clock,
                                                          Random& random) {
  FrontProxyCredentials c;
  const std::string ca_crt = data_dir + "/front-proxy-ca.crt";
  const std::string crt = data_dir + "/front-proxy-client.crt";
  const std::string key = data_dir + "/front-proxy-client.key";
  if (access(ca_crt.c_str(), R_OK) == 0 && access(crt.c_str(), R_OK) == 0 &&
      access(key.c_str(), R_OK) == 0) {
    STASH_ASSIGN_OR_RETURN(c.ca_pem, ReadFile(ca_crt));
    STASH_ASSIGN_OR_RETURN(c.cert_pem, ReadFile(crt));
    STASH_ASSIGN_OR_RETURN(c.key_pem, ReadFile(key));
    return c;
  }
  // The CA's key is not kept: the one client certificate is all it signs.
  PkeyPtr ca_pkey(EVP_EC_gen("P-256"));
  PkeyPtr pkey(EVP_EC_gen("P-256"));
  if (!ca_pkey || !pkey) return SslError("EC key generation");
  STASH_ASSIGN_OR_RETURN(
      X509Ptr ca, Issue(ca_pkey.get(), "front-proxy-ca", nullptr, nullptr, "", clock, random));
  STASH_ASSIGN_OR_RETURN(
      X509Ptr cert, Issue(pkey.get(), std::string(kFrontProxyClientName), ca.get(), ca_pkey.get(),
                          "", clock, random, "clientAuth"));
  STASH_ASSIGN_OR_RETURN(c.ca_pem, CertPem(ca.get()));
  STASH_ASSIGN_OR_RETURN(c.cert_pem, CertPem(cert.get()));
  STASH_ASSIGN_OR_RETURN(c.key_pem, KeyPem(pkey.get()));
  STASH_RETURN_IF_ERROR(WriteFileAtomic(key, c.key_pem, 0600));
  STASH_RETURN_IF_ERROR(WriteFileAtomic(crt, c.cert_pem, 0600));
  STASH_RETURN_IF_ERROR(WriteFileAtomic(ca_crt, c.ca_pem, 0600));
  return c;
}

}  // namespace stash::api
