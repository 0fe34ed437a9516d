#include "libequiv/e2e/teacher_forced_dump.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>

#include "libequiv/e2e/logit_metrics.h"
#include "libequiv/e2e/teacher_forced_judge.h"
#include "libequiv/io/json_show.h"
#include "libequiv/io/number_format.h"
#include "libequiv/nn/numerics.h"
#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// A prompt number has at most this many digits (no overflow, no absurd counts).
constexpr std::size_t kMaxPromptDigits = 9;

constexpr std::string_view kPrefix = "prompt_";
constexpr std::string_view kKinds[] = {kTeacherForcedRefFp32, kTeacherForcedRefBf16,
                                       kTeacherForcedTarget, kTeacherForcedIds};

std::string ExpectedNames() {
  return "expected prompt_K.ref_fp32, prompt_K.ref_bf16, prompt_K.target and optionally "
         "prompt_K.ids, for K = 0, 1, ...";
}

std::string PromptName(int64_t k) { return std::string(kPrefix) + std::to_string(k); }

// A decimal count without sign or leading zeros ("0", "17"); nullopt otherwise.
std::optional<int64_t> ParseCount(std::string_view text, std::size_t max_digits = 18) {
  if (text.empty() || text.size() > max_digits || (text.size() > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// The tensors of one prompt, found by name.
struct PromptEntries {
  const SafetensorsEntry* ref_fp32 = nullptr;
  const SafetensorsEntry* ref_bf16 = nullptr;
  const SafetensorsEntry* target = nullptr;
  const SafetensorsEntry* ids = nullptr;
};

// [positions, vocab] of a logits tensor; a leading batch of 1 is squeezed.
struct LogitsShape {
  int64_t positions = 0, vocab = 0;
  bool operator==(const LogitsShape&) const = default;
};

std::string ToString(const LogitsShape& s) {
  std::string text = "[";  // appended, not "[" + ...: GCC 12 warns (-Wrestrict) on that
  text += std::to_string(s.positions) + ", " + std::to_string(s.vocab) + "]";
  return text;
}

class DumpReader {
 public:
  explicit DumpReader(const SafetensorsFile& file) : file_(file) {}

  [[noreturn]] void Fail(const std::string& what) const {
    throw Error(file_.source() + ": " + what);
  }

  std::vector<PromptEntries> Prompts() const {
    std::map<int64_t, PromptEntries> by_number;
    for (const SafetensorsEntry& e : file_.entries()) {
      const std::string_view name = e.name;
      const std::size_t dot = name.find('.');
      const std::optional<int64_t> k =
          name.starts_with(kPrefix) && dot != std::string_view::npos
              ? ParseCount(name.substr(kPrefix.size(), dot - kPrefix.size()), kMaxPromptDigits)
              : std::nullopt;
      const std::string_view kind = dot == std::string_view::npos ? "" : name.substr(dot + 1);
      if (!k || std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds)) {
        const bool triple =
            name.ends_with(".ref_fp32") || name.ends_with(".ref_bf16") || name.ends_with(".target");
        Fail("tensor " + Quote(name) + " is not a teacher-forced tensor: " + ExpectedNames() +
             (triple ? " (component triples NAME.ref_fp32, ... are equiv compare's)" : ""));
      }
      PromptEntries& p = by_number[*k];
      (kind == kTeacherForcedRefFp32   ? p.ref_fp32
       : kind == kTeacherForcedRefBf16 ? p.ref_bf16
       : kind == kTeacherForcedTarget  ? p.target
                                       : p.ids) = &e;
    }
    if (by_number.empty()) Fail("no prompts in this dump: " + ExpectedNames());
    std::vector<PromptEntries> prompts;
    for (const auto& [k, entries] : by_number) {
      const auto expected = static_cast<int64_t>(prompts.size());
      if (k != expected) {
        Fail(PromptName(expected) + " is missing: the dump has " + PromptName(k) +
             " (prompts are numbered from 0 without gaps)");
      }
      std::string missing, present;
      const std::pair<std::string_view, const SafetensorsEntry*> parts[] = {
          {kTeacherForcedRefFp32, entries.ref_fp32},
          {kTeacherForcedRefBf16, entries.ref_bf16},
          {kTeacherForcedTarget, entries.target},
          {kTeacherForcedIds, entries.ids}};
      for (const auto& [kind, entry] : parts) {
        std::string& list = entry ? present : missing;
        if (!entry && kind == kTeacherForcedIds) continue;  // optional
        list += (list.empty() ? "" : ", ") + PromptName(k) + "." + std::string(kind);
      }
      if (!missing.empty()) {
        Fail(missing + " missing: each prompt needs ref_fp32, ref_bf16 and target (the dump has " +
             present + ")");
      }
      prompts.push_back(entries);
    }
    return prompts;
  }

  LogitsShape Shape(const SafetensorsEntry& e) const {
    if (!ToCoreDType(e.dtype)) {
      Fail("tensor " + Quote(e.name) + " has dtype " + std::string(SafetensorsTypeName(e.dtype)) +
           ": logits must be F32, F16, BF16 or F64");
    }
    const std::vector<int64_t>& d = e.shape.dims();
    if (!(d.size() == 2 || (d.size() == 3 && d[0] == 1))) {
      Fail("tensor " + Quote(e.name) + " has shape " + e.shape.ToString() +
           ": logits must be [positions, vocab] or [1, positions, vocab]");
    }
    const LogitsShape s{d[d.size() - 2], d[d.size() - 1]};
    if (s.positions == 0 || s.vocab == 0) {
      Fail("tensor " + Quote(e.name) + " has shape " + e.shape.ToString() +
           ": no logits (a prompt needs at least one position and a vocabulary)");
    }
    return s;
  }

  std::vector<int64_t> Ids(const SafetensorsEntry& e, const LogitsShape& logits) const {
    const std::string name = Quote(e.name);
    if (e.dtype != ElementType::kI64 && e.dtype != ElementType::kI32) {
      Fail("tensor " + name + " has dtype " + std::string(SafetensorsTypeName(e.dtype)) +
           ": ids must be I64 or I32");
    }
    const std::vector<int64_t>& d = e.shape.dims();
    const int64_t n = d.empty() ? -1 : d.back();
    if (!(d.size() == 1 || (d.size() == 2 && d[0] == 1)) ||
        (n != logits.positions && n != logits.positions + 1)) {
      Fail("tensor " + name + " has shape " + e.shape.ToString() + ": the teacher ids must be [" +
           std::to_string(logits.positions) + "] or [" + std::to_string(logits.positions + 1) +
           "] (one per position, or with the last token too; a leading batch of 1 is allowed)");
    }
    const SafetensorsRawTensor raw = file_.Raw(e.name);
    std::vector<int64_t> ids(static_cast<std::size_t>(n));
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (e.dtype == ElementType::kI64) {
        std::memcpy(&ids[i], raw.bytes.data() + 8 * i, 8);
      } else {
        int32_t v;
        std::memcpy(&v, raw.bytes.data() + 4 * i, 4);
        ids[i] = v;
      }
      if (ids[i] < 0 || ids[i] >= logits.vocab) {
        Fail("tensor " + name + ": ids[" + std::to_string(i) + "] is " + std::to_string(ids[i]) +
             ", outside the vocabulary [0, " + std::to_string(logits.vocab) + ")");
      }
    }
    return ids;
  }

  // A metadata value that must be a count; nullopt when the key is absent.
  std::optional<int64_t> MetadataCount(const std::string& key) const {
    const auto it = file_.metadata().find(key);
    if (it == file_.metadata().end()) return std::nullopt;
    const std::optional<int64_t> value = ParseCount(it->second);
    if (!value) {
      Fail("metadata " + Quote(key) + " is " + Quote(it->second) +
           ", expected a non-negative decimal integer");
    }
    return value;
  }

  std::string MetadataString(const std::string& key, std::string fallback) const {
    const auto it = file_.metadata().find(key);
    return it == file_.metadata().end() ? fallback : ValidUtf8(it->second);
  }

 private:
  const SafetensorsFile& file_;
};

// Rows [begin, begin + rows) of a logits view as a float matrix.
nn::Matrix Block(const TensorView& view, int64_t vocab, int64_t begin, int64_t rows,
                 std::vector<double>& scratch) {
  scratch.resize(static_cast<std::size_t>(rows * vocab));
  view.Decode(begin * vocab, rows * vocab, scratch.data());
  nn::Matrix m(rows, vocab);
  for (int64_t i = 0; i < rows * vocab; ++i) m.data()[i] = static_cast<float>(scratch[i]);
  return m;
}

// The first element of `block` (rows from `first_row`) that is not finite as a float.
struct NonFinite {
  int64_t count = 0;
  int64_t row = -1, col = -1;
  double value = 0;
};

void CountNonFinite(const nn::Matrix& block, const std::vector<double>& original, int64_t first_row,
                    NonFinite& nf) {
  for (int64_t i = 0; i < block.size(); ++i) {
    if (std::isfinite(block.data()[i])) continue;
    if (nf.count++ == 0) {
      nf.row = first_row + i / block.cols();
      nf.col = i % block.cols();
      nf.value = original[static_cast<std::size_t>(i)];
    }
  }
}

std::string Described(double value) {
  return std::isfinite(value) ? FormatFull(value) + " (outside float32's range)"
                              : FormatFull(value);
}

}  // namespace

TeacherForcedDumpRun JudgeTeacherForcedDump(const SafetensorsFile& file,
                                            const TeacherForcedCriteria& criteria,
                                            int64_t block_elements) {
  const DumpReader reader(file);
  const std::vector<PromptEntries> entries = reader.Prompts();

  // Everything the header says is checked before any logit is read.
  TeacherForcedDumpRun run;
  std::vector<LogitsShape> shapes;
  std::vector<std::vector<int64_t>> ids(entries.size());
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const PromptEntries& p = entries[k];
    const LogitsShape s = reader.Shape(*p.ref_fp32);
    for (const SafetensorsEntry* other : {p.ref_bf16, p.target}) {
      const LogitsShape o = reader.Shape(*other);
      if (o != s) {
        reader.Fail("tensor " + Quote(other->name) + " is " + ToString(o) + " but " +
                    Quote(p.ref_fp32->name) + " is " + ToString(s) +
                    ": the three logits of a prompt must have the same [positions, vocab]");
      }
    }
    if (k > 0 && s.vocab != shapes[0].vocab) {
      reader.Fail("tensor " + Quote(p.ref_fp32->name) + " has a vocabulary of " +
                  std::to_string(s.vocab) + " but " + Quote(entries[0].ref_fp32->name) + " has " +
                  std::to_string(shapes[0].vocab) + ": every prompt's logits share one vocabulary");
    }
    shapes.push_back(s);
    if (p.ids) ids[k] = reader.Ids(*p.ids, s);
  }
  run.vocab = shapes[0].vocab;
  for (const auto& [key, value] : file.metadata()) {
    if (!key.starts_with(kPrefix) || !key.ends_with(".prompt_length")) continue;
    const std::string_view number =
        std::string_view(key).substr(kPrefix.size(), key.size() - kPrefix.size() - 14);
    const std::optional<int64_t> k = ParseCount(number, kMaxPromptDigits);
    if (!k || *k >= static_cast<int64_t>(entries.size())) {
      reader.Fail("metadata " + Quote(key) + " names no prompt of this dump (it has prompt_0 .. " +
                  PromptName(static_cast<int64_t>(entries.size()) - 1) + ")");
    }
    const int64_t length = *reader.MetadataCount(key);
    const auto& teacher = ids[static_cast<std::size_t>(*k)];
    if (teacher.empty()) {
      reader.Fail("metadata " + Quote(key) + " needs the tensor " + PromptName(*k) +
                  ".ids (a prompt length is a count of teacher ids)");
    }
    if (length < 1 || length > static_cast<int64_t>(teacher.size())) {
      reader.Fail("metadata " + Quote(key) + " is " + std::to_string(length) + ", outside [1, " +
                  std::to_string(teacher.size()) + "] (the length of " + PromptName(*k) + ".ids)");
    }
  }

  TeacherForcedResult& result = run.result;
  result.model = reader.MetadataString(
      "model", std::filesystem::path(file.source()).filename().replace_extension().string());
  result.device = reader.MetadataString("device", "dump");
  result.new_tokens = reader.MetadataCount("new_tokens").value_or(0);
  result.criteria = criteria;

  std::vector<double> scratch;
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const PromptEntries& p = entries[k];
    const LogitsShape s = shapes[k];
    const TensorView ref_fp32 = file.View(p.ref_fp32->name);
    const TensorView ref_bf16 = file.View(p.ref_bf16->name);
    const TensorView target = file.View(p.target->name);
    PromptResult pr;
    pr.teacher = ids[k];
    const std::optional<int64_t> prompt_length =
        reader.MetadataCount(PromptName(static_cast<int64_t>(k)) + ".prompt_length");
    if (prompt_length) pr.prompt.assign(pr.teacher.begin(), pr.teacher.begin() + *prompt_length);
    NonFinite target_nf;
    const int64_t block_rows = std::max<int64_t>(1, block_elements / s.vocab);
    for (int64_t row = 0; row < s.positions; row += block_rows) {
      const int64_t rows = std::min(block_rows, s.positions - row);
      nn::Matrix blocks[2];
      const std::pair<const TensorView*, const SafetensorsEntry*> refs[] = {
          {&ref_fp32, p.ref_fp32}, {&ref_bf16, p.ref_bf16}};
      for (int i = 0; i < 2; ++i) {
        blocks[i] = Block(*refs[i].first, s.vocab, row, rows, scratch);
        NonFinite nf;
        CountNonFinite(blocks[i], scratch, row, nf);
        if (nf.count > 0) {
          reader.Fail("tensor " + Quote(refs[i].second->name) + ": logit [" +
                      std::to_string(nf.row) + ", " + std::to_string(nf.col) + "] is " +
                      Described(nf.value) +
                      ": reference logits must be finite to judge the port (check the "
                      "reference run)");
        }
      }
      const nn::Matrix t = Block(target, s.vocab, row, rows, scratch);
      CountNonFinite(t, scratch, row, target_nf);
      for (PositionMetrics& m : ComparePositions(blocks[0], blocks[1], t, row)) {
        pr.positions.push_back(m);
      }
    }
    if (target_nf.count > 0) {
      run.warnings.push_back(p.target->name + ": " + std::to_string(target_nf.count) + " of " +
                             std::to_string(s.positions * s.vocab) +
                             " logits are NaN or infinite, the first at [" +
                             std::to_string(target_nf.row) + ", " + std::to_string(target_nf.col) +
                             "] (" + Described(target_nf.value) + ")");
    }
    run.positions += s.positions;
    SummarizePrompt(pr);
    result.prompts.push_back(std::move(pr));
  }
  SummarizePooled(result, criteria.theta);
  result.failures = JudgeTeacherForced(result, criteria);
  return run;
}

TeacherForcedDumpRun JudgeTeacherForcedDump(const std::string& path,
                                            const TeacherForcedCriteria& criteria) {
  const SafetensorsFile file = SafetensorsFile::Open(path);
  return JudgeTeacherForcedDump(file, criteria);
}

}  // namespace equiv
