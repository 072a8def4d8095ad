#include "stash/format/lock.h"

#include "json_read.h"
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
  constexpr std::string_view kDoc = "lock";
  STASH_ASSIGN_OR_RETURN(internal::Json doc, internal::ParseJson(json, kDoc));
  Lock l;
  STASH_RETURN_IF_ERROR(internal::ReadTime(doc, "time", kDoc, &l.time));
  STASH_RETURN_IF_ERROR(internal::ReadBool(doc, "exclusive", kDoc, &l.exclusive));
  STASH_RETURN_IF_ERROR(internal::ReadString(doc, "hostname", kDoc, &l.hostname));
  STASH_RETURN_IF_ERROR(internal::ReadString(doc, "username", kDoc, &l.username));
  STASH_RETURN_IF_ERROR(internal::ReadInt(doc, "pid", kDoc, &l.pid));
  STASH_RETURN_IF_ERROR(internal::ReadUint32(doc, "uid", kDoc, &l.uid));
  STASH_RETURN_IF_ERROR(internal::ReadUint32(doc, "gid", kDoc, &l.gid));
  return l;
}

}  // namespace stash::format
