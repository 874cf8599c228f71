// Fuzz target: Buffer::readln in every EOL style and Buffer::search over a chain whose block
// boundaries the fuzzer chooses (each piece is added by reference, so it stays its own block:
// an EOL or a needle split across blocks is the interesting case). Checked against the
// std::string model of buffer_model.h: every line, then what remains; every occurrence of
// the needle from every start.
//
// Input: [style] [needle length % 9] [needle] then pieces: [length] [bytes]...
#include <string>
#include <vector>

#include "buffer_model.h"
#include "fuzz_support.h"
#include "reactor/buffer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reactord::fuzz;
  ByteReader in(data, size);
  const auto style = eol_style(in.u8());
  const std::string needle = in.bytes(8);
  std::vector<std::string> pieces;
  while (!in.done() && pieces.size() < 64) pieces.push_back(in.bytes(255));

  reactor::Buffer buf;
  std::string model;
  for (const auto& piece : pieces) {
    if (piece.empty()) continue;
    buf.add_reference(piece.data(), piece.size(), [](const void*, std::size_t) {});
    model += piece;
  }
  FUZZ_CHECK(buf.length() == model.size());

  // search: from every start (the model's answer at each), and past the end.
  for (std::size_t from = 0; from <= model.size() + 1; ++from) {
    FUZZ_CHECK(buf.search(needle, from) == model_search(model, needle, from));
  }

  // readln until no complete line is left; the rest stays, byte for byte.
  for (;;) {
    auto line = buf.readln(style);
    auto expect = model_readln(model, style);
    FUZZ_CHECK(line.has_value() == expect.has_value());
    if (!line) break;
    FUZZ_CHECK(*line == *expect);
    FUZZ_CHECK(buf.length() == model.size());
  }
  FUZZ_CHECK(buf.to_string() == model);
  return 0;
}
