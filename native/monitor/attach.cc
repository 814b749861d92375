#include "attach.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

namespace monitor {

namespace {

// Output queued for one client beyond this and it is dropped: logging never waits for it.
// Enough to ride out a burst; memory only a lagging client costs, and given back after.
constexpr size_t kMaxQueue = size_t{1024} * 1024;
constexpr size_t kHead = 5;

// Little-endian, as every wire format of tsrun's (plan, sync frames, attach frames).
void PutLe32(char* p, uint32_t v) {
  p[0] = static_cast<char>(v);
  p[1] = static_cast<char>(v >> 8);
  p[2] = static_cast<char>(v >> 16);
  p[3] = static_cast<char>(v >> 24);
}

uint32_t GetLe32(const uint8_t* p) { return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24); }

// Frames a client's socket did not take yet, consumed from the front.
class Backlog {
 public:
  bool empty() const { return off_ == buf_.size(); }
  size_t size() const { return buf_.size() - off_; }
  const char* data() const { return buf_.data() + off_; }
  void append(const char* p, size_t n) { buf_.append(p, n); }
  void consume(size_t n) {
    off_ += n;
    if (off_ == buf_.size()) {
      std::string().swap(buf_);  // give the memory back
      off_ = 0;
    } else if (off_ > 65536 && off_ * 2 > buf_.size()) {
      buf_.erase(0, off_);
      off_ = 0;
    }
  }

 private:
  std::string buf_;
  size_t off_ = 0;
};

}  // namespace

struct Attach::Client : Watch {
  Client() : Watch(Kind::kAttachClient) {}
  Backlog out;
  uint8_t head[kHead];
  size_t head_len = 0;
  uint32_t left = 0;  // payload bytes of the current input frame still to come
  uint8_t arg[4];
  size_t arg_len = 0;
  bool sent_stdin = false;
  bool eof = false;     // it shut down its sending side; it may still read
  bool parked = false;  // off the loop while the container's stdin is full
  bool dead = false;
};

void Attach::Configure(int stdin_fd, int pty, bool stdin_once) {
  stdin_.fd = stdin_fd;
  if (stdin_fd >= 0) SetNonblock(stdin_fd);
  pty_ = pty;
  stdin_once_ = stdin_once;
}

bool Attach::Listen(const std::string& dir) { return LoopListen(&listen_, dir, "attach.sock"); }

void Attach::OnAccept() {
  for (int fd; (fd = LoopAccept(&listen_, "attach.sock")) >= 0;) {
    Client* c = new Client;
    c->fd = fd;
    clients_.push_back(c);
    LoopAdd(c, EPOLLIN);
  }
}

static uint32_t Wanted(bool eof, bool queued) {
  uint32_t events = 0;
  if (!eof) events |= EPOLLIN;
  if (queued) events |= EPOLLOUT;
  return events;
}

void Attach::Interest(Client* c) {
  if (c->dead || c->parked) return;
  LoopMod(c, Wanted(c->eof, !c->out.empty()));
}

void Attach::Drop(Client* c) {
  if (c->dead) return;
  c->dead = true;
  if (c->parked) close(c->fd);
  else LoopClose(c);
  c->fd = -1;
  // A client that disconnects without shutting down first ends its input here too.
  if (!c->eof && c->sent_stdin && stdin_once_) CloseStdin();
}

void Attach::Sweep() {
  size_t j = 0;
  for (Client* c : clients_) {
    if (c->dead) delete c;
    else clients_[j++] = c;
  }
  clients_.resize(j);
}

void Attach::OnClient(Watch* w, uint32_t events) {
  Client* c = static_cast<Client*>(w);
  if (c->dead) return;
  if ((events & EPOLLOUT) && Flush(c)) {
    if (exiting_ && c->out.empty()) return Drop(c);  // it has the exit frame
    Interest(c);
  }
  if (!c->dead && !c->eof && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
    uint8_t buf[4096];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      if (n == 0 && c->sent_stdin && stdin_once_) CloseStdin();
      c->eof = true;
      Interest(c);
    }
    for (size_t i = 0; n > 0 && i < static_cast<size_t>(n) && !c->dead;) {
      size_t avail = static_cast<size_t>(n) - i;
      if (c->head_len < kHead) {
        size_t take = avail < kHead - c->head_len ? avail : kHead - c->head_len;
        memcpy(c->head + c->head_len, buf + i, take);
        c->head_len += take;
        i += take;
        if (c->head_len == kHead) {
          c->left = GetLe32(c->head + 1);
          c->arg_len = 0;
          if (c->left == 0) Frame(c);
        }
        continue;
      }
      size_t take = avail < c->left ? avail : c->left;
      if (c->head[0] == kInputStdin) {
        StdinData(c, reinterpret_cast<char*>(buf + i), take);
      } else if (c->head[0] == kInputResize) {
        for (size_t k = 0; k < take && c->arg_len < sizeof c->arg; k++) c->arg[c->arg_len++] = buf[i + k];
      }
      i += take;
      c->left -= static_cast<uint32_t>(take);
      if (c->left == 0) Frame(c);
    }
  }
  // Both directions closed (or an error): nothing more to read or to deliver.
  if (!c->dead && c->eof && (events & (EPOLLHUP | EPOLLERR))) Drop(c);
}

void Attach::Frame(Client* c) {
  if (c->head[0] == kInputCloseStdin) {
    CloseStdin();
  } else if (c->head[0] == kInputResize && c->arg_len == 4 && pty_ >= 0) {
    ResizePty(pty_, static_cast<uint16_t>(c->arg[1] << 8 | c->arg[0]), static_cast<uint16_t>(c->arg[3] << 8 | c->arg[2]));
  }
  c->head_len = 0;
}

void Attach::StdinData(Client* c, const char* data, size_t n) {
  if (stdin_.fd < 0 || stdin_closing_ || n == 0) return;  // no stdin (any more): dropped
  c->sent_stdin = true;
  if (Queue(data, n)) Park(c);
}

bool Attach::Queue(const char* data, size_t n) {
  if (pending_.empty()) {
    ssize_t w = write(stdin_.fd, data, n);
    if (w < 0 && errno != EAGAIN && errno != EINTR) {
      Diag("write to the container's stdin: %m");  // EPIPE: it closed its stdin
      LoopClose(&stdin_);
      return false;
    }
    if (w < 0) w = 0;
    data += w;
    n -= static_cast<size_t>(w);
    if (n == 0) return false;
    LoopAdd(&stdin_, EPOLLOUT);
  }
  pending_.append(data, n);
  return true;
}

void Attach::OnStdinWritable() {
  ssize_t w = write(stdin_.fd, pending_.data(), pending_.size());
  if (w < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (w < 0) {
    Diag("write to the container's stdin: %m");
    pending_.clear();
  } else {
    pending_.erase(0, static_cast<size_t>(w));
  }
  if (!pending_.empty()) return;
  std::string().swap(pending_);
  if (w < 0 || stdin_closing_) LoopClose(&stdin_);
  else LoopDel(&stdin_);
  Unpark();
}

void Attach::CloseStdin() {
  if (stdin_.fd < 0 || stdin_closing_) return;
  // A pty has no half-close: the terminal's EOF character ends a read instead.
  if (pty_ >= 0) Queue("\x04", 1);
  stdin_closing_ = true;
  if (pending_.empty()) LoopClose(&stdin_);
}

void Attach::Park(Client* c) {
  if (c->parked || c->dead) return;
  LoopDel(c);
  c->parked = true;
}

void Attach::Unpark() {
  for (Client* c : clients_) {
    if (!c->parked || c->dead) continue;
    c->parked = false;
    LoopAdd(c, Wanted(c->eof, !c->out.empty()));
  }
}

void Attach::Send(Client* c, const char* head, const char* data, size_t n) {
  if (c->dead) return;
  if (c->out.empty()) {
    struct iovec iov[2] = {{const_cast<char*>(head), kHead}, {const_cast<char*>(data), n}};
    struct msghdr msg = {};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    ssize_t w = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (w < 0 && errno != EAGAIN && errno != EINTR) return Drop(c);
    size_t sent = w < 0 ? 0 : static_cast<size_t>(w);
    if (sent >= kHead + n) return;
    if (sent < kHead) c->out.append(head + sent, kHead - sent);
    size_t from = sent > kHead ? sent - kHead : 0;
    c->out.append(data + from, n - from);
  } else {
    c->out.append(head, kHead);
    c->out.append(data, n);
    if (c->out.size() > kMaxQueue) {
      Diag("attach client too slow (%zu bytes queued): disconnected", c->out.size());
      return Drop(c);
    }
  }
  // Off the loop, a parked client gets no EPOLLOUT: push what its socket takes now.
  if (c->parked && !Flush(c)) return;
  Interest(c);
}

bool Attach::Flush(Client* c) {
  if (c->out.empty()) return true;
  ssize_t n = send(c->fd, c->out.data(), c->out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    Drop(c);
    return false;
  }
  if (n > 0) c->out.consume(static_cast<size_t>(n));
  return true;
}

void Attach::Broadcast(FrameKind kind, const char* data, size_t n) {
  if (exiting_) return;
  char head[kHead] = {static_cast<char>(kind)};
  PutLe32(head + 1, static_cast<uint32_t>(n));
  for (Client* c : clients_) Send(c, head, data, n);
}

void Attach::Exit(uint32_t exit_code) {
  exiting_ = true;
  LoopClose(&listen_);
  Unpark();  // input no longer matters; output does
  char payload[4];
  PutLe32(payload, exit_code);
  char head[kHead] = {static_cast<char>(kFrameExit)};
  PutLe32(head + 1, sizeof payload);
  for (Client* c : clients_) {
    Send(c, head, payload, sizeof payload);
    if (!c->dead && c->out.empty()) Drop(c);
  }
}

bool Attach::Done() const {
  for (const Client* c : clients_)
    if (!c->dead) return false;
  return true;
}

}  // namespace monitor
