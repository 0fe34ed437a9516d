#include "libequiv/report/markdown_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "libequiv/io/json_show.h"

namespace equiv {
namespace {

using nlohmann::json;

// Control characters (newlines included) would end a table row or a paragraph.
std::string OneLine(std::string_view text) {
  std::string out = ValidUtf8(std::string(text));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

// Prose from the input: every character with a Markdown meaning inline is backslash-escaped.
std::string Text(std::string_view text) {
  std::string out;
  for (char c : OneLine(text)) {
    if (std::string_view("\\`*_[]<>#|~!").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string R(double value) {
  if (std::isnan(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string Codes(const std::vector<std::string>& items, bool in_table) {
  if (items.empty()) return "-";
  std::string out;
  for (const std::string& item : items) {
    out += (out.empty() ? "" : ", ") + MarkdownCode(item, in_table);
  }
  return out;
}

std::string Verdict(const SuiteResults& r, const Totals& t, bool tf_failed) {
  if (t.failed > 0 || tf_failed) return "FAIL";
  if (!r.complete) return "INCOMPLETE";
  return t.cases == 0 ? "NO CASES" : "PASS";
}

// The teacher-forced document, read as tolerantly as the HTML report reads it.
struct TeacherForcedVerdict {
  bool present = false, known = false, passed = false;
  std::vector<std::string> messages;
  double r_p95 = NAN, cosine_p5 = NAN, kl_p95 = NAN, top1 = NAN;
};

// A number at `key` of an object; NaN when absent or of another type.
double NumberAt(const json& object, const std::string& key) {
  if (!object.is_object()) return NAN;
  const auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : NAN;
}

// The same one level down: {"r_ratio": {"p95": ...}}.
double NumberAt(const json& object, const std::string& key, const std::string& field) {
  if (!object.is_object()) return NAN;
  const auto it = object.find(key);
  return it == object.end() ? NAN : NumberAt(*it, field);
}

TeacherForcedVerdict ReadTeacherForced(const std::optional<json>& tf) {
  TeacherForcedVerdict v;
  if (!tf || !tf->is_object()) return v;
  v.present = true;
  const json& doc = *tf;
  if (doc.contains("failures") && doc["failures"].is_array()) {
    for (const json& f : doc["failures"]) {
      if (f.is_object() && f.contains("message") && f["message"].is_string()) {
        v.messages.push_back(f["message"].get<std::string>());
      }
    }
  }
  if (doc.contains("passed") && doc["passed"].is_boolean()) {
    v.known = true;
    v.passed = doc["passed"].get<bool>();
  } else if (doc.contains("failures") && doc["failures"].is_array()) {
    v.known = true;
    v.passed = doc["failures"].empty();
  }
  v.r_p95 = NumberAt(doc, "r_ratio", "p95");
  v.cosine_p5 = NumberAt(doc, "cosine", "p5");
  v.kl_p95 = NumberAt(doc, "kl", "p95");
  v.top1 = NumberAt(doc, "top1");
  return v;
}

std::string TeacherForcedSection(const TeacherForcedVerdict& v) {
  std::string s = "\n### Teacher-forced: ";
  s += !v.known ? "no verdict in the file" : v.passed ? "PASS" : "FAIL";
  s += "\n\nR p95 " + R(v.r_p95) + ", cosine p5 " + R(v.cosine_p5) + ", KL p95 " + R(v.kl_p95) +
       ", top-1 agreement " + R(v.top1) + "\n";
  if (!v.messages.empty()) s += "\n";
  for (const std::string& m : v.messages) s += "- " + MarkdownCode(m) + "\n";  // verbatim
  return s;
}

}  // namespace

std::string MarkdownCode(std::string_view text, bool in_table) {
  std::string body = OneLine(text);
  if (in_table) {
    std::string escaped;
    for (char c : body) {
      if (c == '|') escaped += '\\';
      escaped += c;
    }
    body = std::move(escaped);
  }
  std::size_t longest = 0, run = 0;
  for (char c : body) {
    run = c == '`' ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  const std::string fence(longest + 1, '`');
  // A space keeps a leading or trailing backtick out of the fence (CommonMark strips one).
  const bool pad = !body.empty() && (body.front() == '`' || body.back() == '`');
  if (body.empty()) body.push_back(' ');  // an empty span is not a span
  std::string span = fence;
  if (pad) span += ' ';
  span += body;
  if (pad) span += ' ';
  return span + fence;
}

std::string RenderMarkdownSummary(const ReportInput& input, std::size_t max_rows) {
  const SuiteResults& r = input.results;
  const Totals t = TotalsOf(r.cases);
  const TeacherForcedVerdict tf = ReadTeacherForced(input.teacher_forced);
  const bool tf_failed = tf.known && !tf.passed;

  std::string s = "## equiv: " + Verdict(r, t, tf_failed) + "\n\n";
  s += MarkdownCode(r.suite) + ": " + std::to_string(t.passed) + " of " + std::to_string(t.cases) +
       " cases passed, " + std::to_string(t.failed) + " failed, " + std::to_string(t.flagged) +
       " flagged over-precision; model " + MarkdownCode(r.model);
  // A dump run's port ran elsewhere: its targets come from files, not from a device here.
  s += r.dumps ? ", targets dumped by the port, read from " + MarkdownCode(*r.dumps)
               : ", device " + MarkdownCode(r.device);
  if (!r.faults.empty()) s += ", injected faults " + Codes(r.faults, false);
  if (!r.complete) s += "; **the suite did not finish**";
  s += "\n";

  const std::optional<Suspect>& primary =
      input.localization ? input.localization->primary : std::nullopt;
  if (t.failed > 0 && primary && primary->failed) {
    const Suspect& p = *primary;
    s += "\n**Primary suspect:** " + MarkdownCode(p.name) + " (" + p.component +
         (p.layer >= 0 ? ", layer " + std::to_string(p.layer) : std::string()) + "), R " +
         R(p.r_ratio) + ", " + std::string(PatternName(p.pattern)) + ", " +
         std::string(RootCauseName(p.cause)) + ": " + Text(p.description) + ". Paths " +
         Codes(p.source_paths, false) + " → " + Codes(p.target_paths, false) + "\n";
  }

  std::vector<const CaseResult*> failing;
  for (const CaseResult& c : r.cases) {
    if (!c.passed) failing.push_back(&c);
  }
  std::stable_sort(failing.begin(), failing.end(), [](const CaseResult* a, const CaseResult* b) {
    return a->order != b->order ? a->order < b->order : a->name < b->name;
  });
  if (!failing.empty()) {
    s += "\n### Failing components (" + std::to_string(failing.size()) + ")\n\n";
    s += "| case | component | layer | R | band or outcome | source paths |\n";
    s += "| --- | --- | --- | --- | --- | --- |\n";
    for (std::size_t i = 0; i < failing.size() && i < max_rows; ++i) {
      const CaseResult& c = *failing[i];
      s += "| " + MarkdownCode(c.name, true) + " | " + c.component + " | " +
           (c.layer >= 0 ? std::to_string(c.layer) : std::string("-")) + " | " + R(c.r_ratio) +
           " | " +
           (c.band ? std::string(BandName(*c.band))
                   : MarkdownCode(std::string(OutcomeName(c.outcome)), true)) +
           " | " + Codes(c.source_paths, true) + " |\n";
    }
    if (failing.size() > max_rows) {
      s += "\nand " + std::to_string(failing.size() - max_rows) +
           " more failing cases: see the HTML report (`equiv report`)\n";
    }
  } else if (t.cases > 0) {
    s += "\nNo component failed.\n";
  }
  if (tf.present) s += TeacherForcedSection(tf);
  return s;
}

}  // namespace equiv
