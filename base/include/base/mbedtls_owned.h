// One owner for every mbedTLS object the libraries use: init on
// construction, free on destruction (mbedTLS's *_free functions zeroize the
// object and whatever it allocated, so secrets held there are wiped on
// every path). Not copyable or movable: mbedTLS objects may point into
// themselves.
#pragma once

namespace base {

template <class T, void (*Init)(T*), void (*Free)(T*)>
class MbedtlsOwned {
 public:
  MbedtlsOwned() { Init(&v_); }
  ~MbedtlsOwned() { Free(&v_); }
  MbedtlsOwned(const MbedtlsOwned&) = delete;
  MbedtlsOwned& operator=(const MbedtlsOwned&) = delete;
  T* get() { return &v_; }

 private:
  T v_;
};

}  // namespace base
