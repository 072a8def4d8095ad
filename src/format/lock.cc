#include "stash/format/lock.h"

#include "json_scan.h"
#include "stash/format/gojson.h"

namespace stash::format {

std::string EncodeLock(const Lock& lock) {
  GoJsonWriter w;
  w.BeginObject();
  w.TimeField("time", lock.time);
  w.BoolField("exclusive", lock.exclusive);
  w.StringField("hostname", lock.hostname);
  w.StringField("username", lock.username);
  w.IntField("pid", lock.pid);
  if (lock.uid != 0) w.UintField("uid", lock.uid);
  if (lock.gid != 0) w.UintField("gid", lock.gid);
  w.EndObject();
  return w.Take();
}

Result<Lock> DecodeLock(std::string_view json) {
  internal::JsonScanner js(json, "lock");
  Lock l;
  Status status = js.Document([&](const std::string& key) -> Status {
    if (key == "time") return js.Time(&l.time);
    if (key == "exclusive") return js.Bool(&l.exclusive);
    if (key == "hostname") return js.String(&l.hostname);
    if (key == "username") return js.String(&l.username);
    if (key == "pid") return js.Int(&l.pid);
    if (key == "uid") return js.U32(&l.uid);
    if (key == "gid") return js.U32(&l.gid);
    return js.Skip();
  });
  if (!status.ok()) return status;
  return l;
}

}  // namespace stash::format
