/*
 * libprism — header-only C++ wrapper (C++11) over the C API.
 *
 * Handles are move-only RAII objects; a failing call throws prism::Error,
 * carrying the status code and the library's message.
 *
 * Thread safety and ownership are those of the C API (see prism.h): Tokenizer,
 * Bart and a trained Ranker may be shared by threads; a Session belongs to one
 * thread at a time; a Session must not outlive its Bart.
 */
#ifndef PRISM_HPP
#define PRISM_HPP

#include <stdexcept>
#include <string>
#include <utility>

#include "prism.h"

namespace prism {

/* A failed libprism call: status() is the prism_status, what() the message. */
class Error : public std::runtime_error {
public:
  Error(int status, const std::string &message)
    : std::runtime_error(std::string(prism_status_name(status)) + ": " + message), status_(status)
  {
  }
  int status() const noexcept { return status_; }

private:
  int status_;
};

/* Throw Error for a negative status; return it otherwise. */
inline int check(int status)
{
  if (status < 0)
    throw Error(status, prism_last_error());
  return status;
}

inline std::string version() { return prism_version_string(); }
inline int set_num_threads(int n) { return prism_set_num_threads(n); }

namespace detail {
/* A move-only owner of a C handle released by Free. */
template <typename T, void (*Free)(T *)>
class Handle {
public:
  Handle() noexcept : p_(nullptr) {}
  explicit Handle(T *p) noexcept : p_(p) {}
  Handle(Handle &&o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Handle &operator=(Handle &&o) noexcept
  {
    if (this != &o) {
      reset();
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle() { reset(); }
  void reset() noexcept
  {
    if (p_)
      Free(p_);
    p_ = nullptr;
  }
  T *get() const noexcept { return p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }

private:
  T *p_;
};
} // namespace detail

} // namespace prism

#endif /* PRISM_HPP */
