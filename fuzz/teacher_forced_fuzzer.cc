// A teacher-forced result file on arbitrary bytes, read twice as equiv reads it: strictly
// (TeacherForcedResultFromJson, after the strict JSON reader) and as the report plots it
// (tolerantly, any JSON object). equiv::Error is the only way out; an accepted result
// round-trips through ToJson; error messages stay valid UTF-8; plotting never runs away.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "libequiv/e2e/teacher_forced_json.h"
#include "libequiv/io/json_reader.h"
#include "libequiv/report/internal/report_plots.h"
#include "libequiv/tensor/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const nlohmann::json doc = equiv::ParseJson(text, "tf.json");
    // The report's plots of any document: bounded output whatever the numbers.
    if (equiv::TeacherForcedPlots(doc).size() > (std::size_t{64} << 20)) __builtin_trap();
    const equiv::TeacherForcedResult r = equiv::TeacherForcedResultFromJson(doc, "tf.json");
    const nlohmann::json once = equiv::ToJson(r);
    if (equiv::ToJson(equiv::TeacherForcedResultFromJson(once, "again.json")) != once) {
      __builtin_trap();
    }
  } catch (const equiv::Error& e) {
    static_cast<void>(nlohmann::json(e.what()).dump());
  }
  return 0;
}
