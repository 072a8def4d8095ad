#include "zstd_util.h"

#include <zstd.h>

#include <memory>
#include <string>

namespace stash::repo {

namespace {

struct CctxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_CCtx* ThreadCctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* ThreadDctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

}  // namespace

size_t ZstdBound(size_t n) { return ZSTD_compressBound(n); }

size_t ZstdCompressTo(std::span<const uint8_t> in, int level, uint8_t* out, size_t cap) {
  ZSTD_CCtx* c = ThreadCctx();
  ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level);
  // restic's encoder uses a 512 KiB window; a small window also keeps the
  // decoder's memory low when restic reads our blobs.
  ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, 19);
  size_t n = ZSTD_compress2(c, out, cap, in.data(), in.size());
  return ZSTD_isError(n) ? 0 : n;
}

void ZstdCompress(std::span<const uint8_t> in, int level, std::vector<uint8_t>* out) {
  out->resize(ZSTD_compressBound(in.size()));
  // compressBound guarantees room, so 0 here is a bug in the call.
  out->resize(ZstdCompressTo(in, level, out->data(), out->size()));
}

Status ZstdDecompressTo(std::span<const uint8_t> in, std::span<uint8_t> out,
                        std::string_view what) {
  ZSTD_DCtx* d = ThreadDctx();
  ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
  size_t n = ZSTD_decompressDCtx(d, out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) {
    return DataLossError(std::string(what) +
                         ": zstd decompression failed: " + ZSTD_getErrorName(n));
  }
  if (n != out.size()) {
    return DataLossError(std::string(what) + ": decompressed to " + std::to_string(n) +
                         " bytes, expected " + std::to_string(out.size()));
  }
  return Status::Ok();
}

Result<std::vector<uint8_t>> ZstdDecompress(std::span<const uint8_t> in, size_t expected,
                                            std::string_view what) {
  ZSTD_DCtx* d = ThreadDctx();
  ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
  std::vector<uint8_t> out;
  if (expected > 0) {
    out.resize(expected);
    size_t n = ZSTD_decompressDCtx(d, out.data(), out.size(), in.data(), in.size());
    if (ZSTD_isError(n)) {
      return DataLossError(std::string(what) +
                           ": zstd decompression failed: " + ZSTD_getErrorName(n));
    }
    if (n != expected) {
      return DataLossError(std::string(what) + ": decompressed to " + std::to_string(n) +
                           " bytes, expected " + std::to_string(expected));
    }
    return out;
  }
  out.resize(std::max<size_t>(in.size() * 4, 4096));
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  size_t produced = 0;
  while (true) {
    if (produced == out.size()) out.resize(out.size() * 2);
    ZSTD_outBuffer ob{out.data() + produced, out.size() - produced, 0};
    size_t r = ZSTD_decompressStream(d, &ob, &ib);
    if (ZSTD_isError(r)) {
      return DataLossError(std::string(what) +
                           ": zstd decompression failed: " + ZSTD_getErrorName(r));
    }
    produced += ob.pos;
    if (ib.pos == ib.size && ob.pos < ob.size) {
      if (r != 0) return DataLossError(std::string(what) + ": zstd data is truncated");
      break;
    }
  }
  out.resize(produced);
  return out;
}

}  // namespace stash::repo
