// The N-API glue: thin syscall wrappers for the TypeScript side, no policy. Each failure
// throws an Error carrying errno, the syscall and the path it acted on.
#include <errno.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <functional>

#include <napi.h>

#include <sys/ioctl.h>
#include <termios.h>
#include "device_filter.h"
#include "idmapped_overlay.h"
#include "pod_ns.h"
#include "seccomp.h"

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

// mkfifo(path, mode)
Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  if (mkfifo(path.c_str(), mode) < 0) return ThrowSys(env, errno, "mkfifo", path);
  return env.Undefined();
}

// attachDeviceFilter(cgroupDir, [{allow, type, major, minor, access}])
Napi::Value AttachDeviceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = info[0].As<Napi::String>();
  Napi::Array arr = info[1].As<Napi::Array>();
  std::vector<tsrun::DeviceRuleIn> rules;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Object o = arr.Get(i).As<Napi::Object>();
    tsrun::DeviceRuleIn r;
    r.allow = o.Get("allow").As<Napi::Boolean>();
    std::string type = o.Get("type").As<Napi::String>();
    r.type = type.empty() ? 'a' : type[0];
    r.major = o.Get("major").As<Napi::Number>().Int64Value();
    r.minor = o.Get("minor").As<Napi::Number>().Int64Value();
    r.access = o.Get("access").As<Napi::String>();
    rules.push_back(r);
  }
  std::string err = tsrun::AttachDeviceFilter(dir, rules);
  if (!err.empty()) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();
  }
  return env.Undefined();
}

// compileSeccomp({defaultAction, defaultErrnoRet?, architectures?, syscalls?}) -> {bpf, unknown}
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = info[0].As<Napi::Object>();
  tsrun::SeccompProfileIn p;
  p.default_action = o.Get("defaultAction").As<Napi::String>();
  p.has_default_errno = o.Get("defaultErrnoRet").IsNumber();
  p.default_errno = p.has_default_errno ? o.Get("defaultErrnoRet").As<Napi::Number>().Uint32Value() : 0;
  if (o.Get("architectures").IsArray()) {
    Napi::Array a = o.Get("architectures").As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) p.architectures.push_back(a.Get(i).As<Napi::String>());
  }
  if (o.Get("syscalls").IsArray()) {
    Napi::Array rules = o.Get("syscalls").As<Napi::Array>();
    for (uint32_t i = 0; i < rules.Length(); i++) {
      Napi::Object r = rules.Get(i).As<Napi::Object>();
      tsrun::SeccompRuleIn rule;
      Napi::Array names = r.Get("names").As<Napi::Array>();
      for (uint32_t j = 0; j < names.Length(); j++) rule.names.push_back(names.Get(j).As<Napi::String>());
      rule.action = r.Get("action").As<Napi::String>();
      rule.has_errno = r.Get("errnoRet").IsNumber();
      rule.errno_ret = rule.has_errno ? r.Get("errnoRet").As<Napi::Number>().Uint32Value() : 0;
      if (r.Get("args").IsArray()) {
        Napi::Array args = r.Get("args").As<Napi::Array>();
        for (uint32_t j = 0; j < args.Length(); j++) {
          Napi::Object a = args.Get(j).As<Napi::Object>();
          tsrun::SeccompArgIn arg;
          arg.index = a.Get("index").As<Napi::Number>().Uint32Value();
          // Values arrive as decimal strings: a JS number cannot hold every uint64.
          arg.value = std::stoull(a.Get("value").As<Napi::String>().Utf8Value());
          arg.value_two = a.Get("valueTwo").IsString() ? std::stoull(a.Get("valueTwo").As<Napi::String>().Utf8Value()) : 0;
          arg.op = a.Get("op").As<Napi::String>();
          rule.args.push_back(arg);
        }
      }
      p.rules.push_back(rule);
    }
  }
  tsrun::SeccompOut out = tsrun::CompileSeccomp(p);
  if (!out.error.empty()) {
    Napi::Error::New(env, out.error).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("bpf", Napi::Buffer<char>::Copy(env, out.bpf.data(), out.bpf.size()));
  Napi::Array unknown = Napi::Array::New(env, out.unknown.size());
  for (size_t i = 0; i < out.unknown.size(); i++) unknown.Set(static_cast<uint32_t>(i), out.unknown[i]);
  result.Set("unknown", unknown);
  return result;
}

// lsetxattr(path, name, value: Buffer): on the entry itself, never through a symlink.
Napi::Value Lsetxattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  std::string name = info[1].As<Napi::String>();
  Napi::Buffer<char> value = info[2].As<Napi::Buffer<char>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) < 0)
    return ThrowSys(env, errno, "lsetxattr", path + " " + name);
  return env.Undefined();
}

// mknod(path, mode (type|perm), major, minor)
Napi::Value Mknod(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value());
  unsigned major = info[2].As<Napi::Number>().Uint32Value(), minor = info[3].As<Napi::Number>().Uint32Value();
  if (mknod(path.c_str(), mode, makedev(major, minor)) < 0) return ThrowSys(env, errno, "mknod", path);
  return env.Undefined();
}

// lgetxattr(path, name): the value, or null when the entry has no such attribute.
Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  std::string name = info[1].As<Napi::String>();
  char buf[65536];
  ssize_t n = lgetxattr(path.c_str(), name.c_str(), buf, sizeof buf);
  if (n < 0) {
    if (errno == ENODATA) return env.Null();
    return ThrowSys(env, errno, "lgetxattr", path + " " + name);
  }
  return Napi::Buffer<char>::Copy(env, buf, static_cast<size_t>(n));
}

// pinNamespaces(types, targets, hostname|null, uidMap|null, gidMap|null): see pod_ns.h
Napi::Value PinNamespaces(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> types, targets;
  Napi::Array t = info[0].As<Napi::Array>(), g = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < t.Length(); i++) types.push_back(t.Get(i).As<Napi::String>());
  for (uint32_t i = 0; i < g.Length(); i++) targets.push_back(g.Get(i).As<Napi::String>());
  if (types.size() != targets.size()) {
    Napi::TypeError::New(env, "pinNamespaces: types and targets differ in length").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string hostname = info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : "";
  std::string uid_map = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
  std::string gid_map = info[4].IsString() ? info[4].As<Napi::String>().Utf8Value() : "";
  std::string err = tsrun::PinNamespaces(types, targets, hostname, uid_map, gid_map);
  if (!err.empty()) Napi::Error::New(env, err).ThrowAsJavaScriptException();
  return env.Undefined();
}

// mountIdmappedOverlay(target, lowers (top first), upper, work, usernsPath, scratchDir): see
// idmapped_overlay.h
Napi::Value MountIdmappedOverlay(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> lowers;
  Napi::Array l = info[1].As<Napi::Array>();
  for (uint32_t i = 0; i < l.Length(); i++) lowers.push_back(l.Get(i).As<Napi::String>());
  std::string err = tsrun::MountIdmappedOverlay(info[0].As<Napi::String>(), lowers, info[2].As<Napi::String>(), info[3].As<Napi::String>(),
                                                info[4].As<Napi::String>(), info[5].As<Napi::String>());
  if (!err.empty()) Napi::Error::New(env, err).ThrowAsJavaScriptException();
  return env.Undefined();
}

// An fd made off the main thread (a blocking accept, a connect inside another network
// namespace), resolved as a Promise<number> or rejected with the step's message.
class FdWorker : public Napi::AsyncWorker {
 public:
  using Job = std::function<int(std::string*)>;
  FdWorker(Napi::Env env, Job job) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), job_(std::move(job)) {}
  static Napi::Promise Run(Napi::Env env, Job job) {
    auto* w = new FdWorker(env, std::move(job));
    Napi::Promise p = w->deferred_.Promise();
    w->Queue();
    return p;
  }
  void Execute() override { fd_ = job_(&err_); }
  void OnOK() override {
    if (fd_ < 0) deferred_.Reject(Napi::Error::New(Env(), err_).Value());
    else deferred_.Resolve(Napi::Number::New(Env(), fd_));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Job job_;
  std::string err_;
  int fd_ = -1;
};

// receiveFd(socketPath, timeoutMs) -> Promise<fd>: listens before it returns (the sender may
// be started at once and must find the socket), then waits off the main thread: the sender
// (tsrun exec) takes a few hundred milliseconds to connect, too long to block the event loop.
Napi::Value ReceiveFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>();
  int timeout = info[1].As<Napi::Number>().Int32Value();
  std::string err;
  int ls = tsrun::ListenForFd(path, &err);
  if (ls < 0) {
    auto d = Napi::Promise::Deferred::New(env);
    d.Reject(Napi::Error::New(env, err).Value());
    return d.Promise();
  }
  return FdWorker::Run(env, [ls, path, timeout](std::string* e) { return tsrun::AcceptFd(ls, path, timeout, e); });
}

// connectInNetns(nsPath, port) -> Promise<fd>: a worker thread enters the pod's network
// namespace only for the connect.
Napi::Value ConnectInNetns(const Napi::CallbackInfo& info) {
  std::string ns = info[0].As<Napi::String>();
  int port = info[1].As<Napi::Number>().Int32Value();
  return FdWorker::Run(info.Env(), [ns, port](std::string* err) { return tsrun::ConnectInNetns(ns, port, err); });
}

// setWinsize(fd, rows, cols): TIOCSWINSZ on a pty master.
Napi::Value SetWinsize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  winsize ws{};
  ws.ws_row = static_cast<unsigned short>(info[1].As<Napi::Number>().Uint32Value());
  ws.ws_col = static_cast<unsigned short>(info[2].As<Napi::Number>().Uint32Value());
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) return ThrowSys(env, errno, "ioctl(TIOCSWINSZ)", "");
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("flock", Napi::Function::New(env, Flock));
  exports.Set("mount", Napi::Function::New(env, Mount));
  exports.Set("umount", Napi::Function::New(env, Umount));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo));
  exports.Set("attachDeviceFilter", Napi::Function::New(env, AttachDeviceFilter));
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp));
  exports.Set("lsetxattr", Napi::Function::New(env, Lsetxattr));
  exports.Set("lgetxattr", Napi::Function::New(env, Lgetxattr));
  exports.Set("mknod", Napi::Function::New(env, Mknod));
  exports.Set("pinNamespaces", Napi::Function::New(env, PinNamespaces));
  exports.Set("mountIdmappedOverlay", Napi::Function::New(env, MountIdmappedOverlay));
  exports.Set("receiveFd", Napi::Function::New(env, ReceiveFd));
  exports.Set("connectInNetns", Napi::Function::New(env, ConnectInNetns));
  exports.Set("setWinsize", Napi::Function::New(env, SetWinsize));
  return exports;
}

}  // namespace

NODE_API_MODULE(tsrun_native, Init)
