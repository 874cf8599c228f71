#include "audit_text.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <vector>

namespace reactord::control {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class Writer {
 public:
  explicit Writer(const AuditTextLimits& limits) : limits_(limits) {}

  // Each field's rendering is bounded by the limits, and a schema has finitely many fields:
  // the text before the final cut is small whatever the request holds.
  void message(const Message& m, int depth) {
    const Reflection* r = m.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    r->ListFields(m, &fields);  // set fields only, in field-number order
    for (const FieldDescriptor* f : fields) {
      if (f->is_repeated()) {
        const int n = r->FieldSize(m, f);
        const int shown = static_cast<int>(std::min<std::size_t>(n, limits_.repeated_elements));
        for (int i = 0; i < shown; ++i) value(m, f, i, depth);
        if (n > shown) {
          separate();
          out_ += "...(" + std::to_string(n - shown) + " more " + f->name() + ")";
        }
      } else {
        value(m, f, -1, depth);
      }
    }
  }

  std::string finish() {
    if (out_.size() > limits_.total) {
      const std::size_t left_out = out_.size() - limits_.total;
      out_.resize(limits_.total);
      out_ += "...(" + std::to_string(left_out) + " more chars)";
    }
    return std::move(out_);
  }

 private:
  void separate() {
    if (!out_.empty() && out_.back() != '{') out_ += ' ';
  }

  void value(const Message& m, const FieldDescriptor* f, int index, int depth) {
    const Reflection* r = m.GetReflection();
    const bool rep = index >= 0;
    separate();
    out_ += f->name();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        out_ += ": " + std::to_string(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        out_ += ": " + std::to_string(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        out_ += ": " + std::to_string(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        out_ += ": " + std::to_string(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        out_ += ": " + std::to_string(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f));
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        out_ += ": " + std::to_string(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f));
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out_ += (rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? ": true" : ": false";
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int v = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
        const auto* e = f->enum_type()->FindValueByNumber(v);
        out_ += ": " + (e ? e->name() : std::to_string(v));
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                   : r->GetStringReference(m, f, &scratch);
        out_ += ": \"";
        const std::size_t shown = std::min(s.size(), limits_.string_bytes);
        for (std::size_t i = 0; i < shown; ++i) {
          const auto c = static_cast<unsigned char>(s[i]);
          if (c == '"' || c == '\\') {
            out_ += '\\';
            out_ += static_cast<char>(c);
          } else if (c < 0x20 || c >= 0x7f) {
            static const char* hex = "0123456789abcdef";
            out_ += "\\x";
            out_ += hex[c >> 4];
            out_ += hex[c & 15];
          } else {
            out_ += static_cast<char>(c);
          }
        }
        out_ += '"';
        if (s.size() > shown) out_ += "...(" + std::to_string(s.size() - shown) + " more bytes)";
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        const Message& sub = rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f);
        out_ += " {";
        if (depth < 8)
          message(sub, depth + 1);
        else
          out_ += "...";
        out_ += out_.back() == '{' ? "}" : " }";
        break;
      }
    }
  }

  const AuditTextLimits& limits_;
  std::string out_;
};

}  // namespace

std::string audit_text(const Message& message, const AuditTextLimits& limits) {
  Writer w(limits);
  w.message(message, 0);
  return w.finish();
}

}  // namespace reactord::control
