#include "stash/format/lock.h"

#include "json_scan.h"
#include "stash/format/gojson.h"

namespace stash::format {

std::string EncodeLock(const Lock& lock) {
  GoJsonWriter w;
  w.BeginObject();
  w.Key("time");
  w.Time(lock.time);
  w.Key("exclusive");
  w.Bool(lock.exclusive);
  w.Key("hostname");
  w.String(lock.hostname);
  w.Key("username");
  w.String(lock.username);
  w.Key("pid");
  w.Int(lock.pid);
  if (lock.uid != 0) {
    w.Key("uid");
    w.Uint(lock.uid);
  }
  if (lock.gid != 0) {
    w.Key("gid");
    w.Uint(lock.gid);
  }
  w.EndObject();
  return w.Take();
}

Result<Lock> DecodeLock(std::string_view json) {
  internal::JsonScanner js(json, "lock");
  Lock l;
  Status status = js.Object([&](const std::string& key) -> Status {
    if (key == "time") return js.Time(&l.time);
    if (key == "exclusive") return js.Bool(&l.exclusive);
    if (key == "hostname") return js.String(&l.hostname);
    if (key == "username") return js.String(&l.username);
    if (key == "pid") return js.Int(&l.pid);
    if (key == "uid") return js.U32(&l.uid);
    if (key == "gid") return js.U32(&l.gid);
    return js.Skip();
  });
  if (status.ok()) status = js.Finish();
  if (!status.ok()) return std::move(status).Prepend("lock");
  return l;
}

}  // namespace stash::format
