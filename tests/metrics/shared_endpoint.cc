#include "shared_endpoint.h"

#include <gtest/gtest.h>

#include <memory>

namespace reactord::test_support {
namespace {

class EndpointEnvironment : public ::testing::Environment {
 public:
  metrics::MetricsEndpoint& get() {
    if (!endpoint_) endpoint_ = std::make_unique<metrics::MetricsEndpoint>("127.0.0.1:0");
    return *endpoint_;
  }
  void TearDown() override { endpoint_.reset(); }

 private:
  std::unique_ptr<metrics::MetricsEndpoint> endpoint_;
};

EndpointEnvironment* environment() {
  // gtest owns and deletes registered environments.
  static auto* env =
      static_cast<EndpointEnvironment*>(::testing::AddGlobalTestEnvironment(new EndpointEnvironment));
  return env;
}

// Register before main() runs the tests, so TearDown happens at the end of the run.
[[maybe_unused]] const bool registered = (environment(), true);

}  // namespace

metrics::MetricsEndpoint& shared_endpoint() { return environment()->get(); }

}  // namespace reactord::test_support
