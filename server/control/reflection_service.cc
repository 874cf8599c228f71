#include "reflection_service.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <set>

#include "reflection_versions.h"

namespace reactord::control {

namespace {

namespace pb = google::protobuf;

// One implementation for both versions: their messages have the same fields and numbers.
template <typename Proto>
class Reflection final : public Proto::ServerReflection::Service {
 public:
  using Request = typename Proto::ServerReflectionRequest;
  using Response = typename Proto::ServerReflectionResponse;

  explicit Reflection(std::vector<std::string> services) : services_(std::move(services)) {}

  grpc::Status ServerReflectionInfo(grpc::ServerContext* ctx,
                                    grpc::ServerReaderWriter<Response, Request>* stream) override {
    Request request;
    // Files already sent on this stream are not sent again (the client has them).
    std::set<std::string> sent;
    while (!ctx->IsCancelled() && stream->Read(&request)) {
      Response response;
      response.set_valid_host(request.host());
      *response.mutable_original_request() = request;
      answer(request, response, sent);
      if (!stream->Write(response)) break;
    }
    return grpc::Status::OK;
  }

 private:
  void answer(const Request& request, Response& response, std::set<std::string>& sent) {
    const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
    switch (request.message_request_case()) {
      case Request::kListServices:
        for (const auto& name : services_)
          response.mutable_list_services_response()->add_service()->set_name(name);
        return;
      case Request::kFileByFilename:
        return file(pool->FindFileByName(request.file_by_filename()), "file " + request.file_by_filename(),
                    response, sent);
      case Request::kFileContainingSymbol:
        return file(pool->FindFileContainingSymbol(request.file_containing_symbol()),
                    "symbol " + request.file_containing_symbol(), response, sent);
      case Request::kFileContainingExtension: {
        const auto& ext = request.file_containing_extension();
        const pb::Descriptor* type = pool->FindMessageTypeByName(ext.containing_type());
        const pb::FieldDescriptor* field =
            type ? pool->FindExtensionByNumber(type, ext.extension_number()) : nullptr;
        return file(field ? field->file() : nullptr,
                    "extension " + std::to_string(ext.extension_number()) + " of " + ext.containing_type(),
                    response, sent);
      }
      case Request::kAllExtensionNumbersOfType: {
        const pb::Descriptor* type = pool->FindMessageTypeByName(request.all_extension_numbers_of_type());
        if (type == nullptr) return error(response, grpc::StatusCode::NOT_FOUND, "type not found");
        std::vector<const pb::FieldDescriptor*> extensions;
        pool->FindAllExtensions(type, &extensions);
        auto* out = response.mutable_all_extension_numbers_response();
        out->set_base_type_name(type->full_name());
        for (const auto* f : extensions) out->add_extension_number(f->number());
        return;
      }
      default:
        return error(response, grpc::StatusCode::UNIMPLEMENTED, "unknown request");
    }
  }

  // The file and, transitively, every dependency not sent yet on this stream.
  void file(const pb::FileDescriptor* f, const std::string& what, Response& response,
            std::set<std::string>& sent) {
    if (f == nullptr) return error(response, grpc::StatusCode::NOT_FOUND, what + " not found");
    std::vector<const pb::FileDescriptor*> pending = {f};
    bool first = true;
    while (!pending.empty()) {
      const pb::FileDescriptor* next = pending.back();
      pending.pop_back();
      // The requested file is always sent; its dependencies only once per stream.
      if (!first && sent.count(next->name())) continue;
      first = false;
      sent.insert(next->name());
      pb::FileDescriptorProto proto;
      next->CopyTo(&proto);
      proto.SerializeToString(response.mutable_file_descriptor_response()->add_file_descriptor_proto());
      for (int i = 0; i < next->dependency_count(); ++i) pending.push_back(next->dependency(i));
    }
  }

  static void error(Response& response, grpc::StatusCode code, const std::string& message) {
    response.mutable_error_response()->set_error_code(static_cast<int>(code));
    response.mutable_error_response()->set_error_message(message);
  }

  const std::vector<std::string> services_;
};

using reflection::V1;
using reflection::V1Alpha;

}  // namespace

std::vector<std::unique_ptr<grpc::Service>> make_reflection_services(std::vector<std::string> services) {
  services.emplace_back("grpc.reflection.v1.ServerReflection");
  services.emplace_back("grpc.reflection.v1alpha.ServerReflection");
  std::vector<std::unique_ptr<grpc::Service>> out;
  out.push_back(std::make_unique<Reflection<V1>>(services));
  out.push_back(std::make_unique<Reflection<V1Alpha>>(services));
  return out;
}

}  // namespace reactord::control
