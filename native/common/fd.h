// Fds and unix sockets, written once for the native binaries (init, monitor, tools) and the addon.
#pragma once
#include <stddef.h>
#include <sys/un.h>

#include <string>

namespace tsrun {

// write(2) until all `n` bytes are out (EINTR retried); false with errno on failure.
bool WriteAll(int fd, const void* data, size_t n);

// Receives one fd sent with SCM_RIGHTS, close-on-exec; -1 with errno on failure (EBADMSG: the
// message carried no fd; EPIPE: the peer closed first). The message body, up to `max` bytes,
// goes to `*body` when it is given.
int RecvFd(int sock, std::string* body = nullptr, size_t max = 256);

// The address of the unix socket `path`. A path longer than sun_path holds (a deep CRI run dir)
// is reached through /proc/self/fd/N/NAME of an O_PATH fd on its directory: that fd goes to
// `*dir_fd` for the caller to close after bind or connect (-1 when none was needed). False with
// errno on failure.
bool UnixAddress(const std::string& path, struct sockaddr_un* addr, int* dir_fd);

}  // namespace tsrun
