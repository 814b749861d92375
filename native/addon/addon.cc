// The N-API glue: thin syscall wrappers for the TypeScript side, no policy. Each failure
// throws an Error carrying errno, the syscall and the path it acted on.
#include <errno.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <napi.h>

namespace {

Napi::Value ThrowSys(Napi::Env env, int err, const char* syscall, const std::string& path) {
  std::string msg = std::string(syscall) + (path.empty() ? "" : " " + path) + ": " + strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("path", Napi::String::New(env, path));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

// flock(fd, exclusive, wait): returns false when wait is false and the lock is held elsewhere.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  bool exclusive = info[1].As<Napi::Boolean>();
  bool wait = info[2].As<Napi::Boolean>();
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);
  for (;;) {
    if (flock(fd, op) == 0) return Napi::Boolean::New(env, true);
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK && !wait) return Napi::Boolean::New(env, false);
    return ThrowSys(env, errno, "flock", "");
  }
}

// mount(source, target, fstype, flags, data)
Napi::Value Mount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string source = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  std::string target = info[1].As<Napi::String>();
  std::string fstype = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
  unsigned long flags = static_cast<unsigned long>(info[3].As<Napi::Number>().Int64Value());
  std::string data = info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  if (mount(source.empty() ? nullptr : source.c_str(), target.c_str(), fstype.empty() ? nullptr : fstype.c_str(), flags,
            data.empty() ? nullptr : data.c_str()) < 0)
    return ThrowSys(env, errno, "mount", target);
  return env.Undefined();
}

// umount2(target, flags)
Napi::Value Umount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string target = info[0].As<Napi::String>();
  int flags = info[1].As<Napi::Number>().Int32Value();
  if (umount2(target.c_str(), flags) < 0) return ThrowSys(env, errno, "umount2", target);
  return env.Undefined();
}

// statfs(path).f_type: tells cgroup2 from cgroup v1 and tmpfs.
Napi::Value FsType(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  struct statfs st;
  if (statfs(path.c_str(), &st) < 0) return ThrowSys(env, errno, "statfs", path);
  return Napi::Number::New(env, static_cast<double>(st.f_type));
}

// mkfifo(path, mode)
Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  if (mkfifo(path.c_str(), mode) < 0) return ThrowSys(env, errno, "mkfifo", path);
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("fsType", Napi::Function::New(env, FsType));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsrun_native, Init)
