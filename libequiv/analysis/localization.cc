#include "libequiv/analysis/localization.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "libequiv/families/registry.h"
#include "libequiv/io/number_format.h"

namespace equiv {
namespace {

using json = nlohmann::json;

// The component kind of a case in its family's table; nullptr for a kind no family has.
const ComponentKind* KindOf(const CaseResult& c) {
  return FindComponentKindInAnyFamily(c.component);
}

// `outer` contains `inner` as a module: "model.layers.3" contains "model.layers.3.mlp"; the
// empty path (the root) contains every other path.
bool StrictDottedPrefix(const std::string& outer, const std::string& inner) {
  if (outer.empty()) return !inner.empty();
  return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 &&
         inner[outer.size()] == '.';
}

// How deep `composite` contains `c`: the length of its longest source path that is a strict
// dotted prefix of one of c's; -1 when it does not contain c.
int64_t ContainmentDepth(const CaseResult& composite, const CaseResult& c) {
  int64_t depth = -1;
  for (const std::string& outer : composite.source_paths) {
    for (const std::string& inner : c.source_paths) {
      if (StrictDottedPrefix(outer, inner)) {
        depth = std::max(depth, static_cast<int64_t>(outer.size()));
      }
    }
  }
  return depth;
}

// The indices of the cases after `i` (in the sorted cases) that follow cases[i].
std::vector<std::size_t> FollowersOf(const std::vector<CaseResult>& cases, std::size_t i) {
  const CaseResult& c = cases[i];
  std::vector<std::size_t> followers;
  // A kind whose reference module is shared by the model (the rotary embedding) is followed
  // by the kinds its table row names, at its layer; others by the modules containing theirs.
  const ComponentKind* kind = KindOf(c);
  const std::span<const std::string_view> named =
      kind != nullptr ? std::span<const std::string_view>(kind->followed_by)
                      : std::span<const std::string_view>();
  // Composites count at their innermost level only: the decoder layer for its attention,
  // not also causal_lm, which contains every case and fails whenever anything persists.
  int64_t innermost = -1;
  if (named.empty()) {
    for (std::size_t j = i + 1; j < cases.size(); ++j) {
      if (cases[j].order > c.order) innermost = std::max(innermost, ContainmentDepth(cases[j], c));
    }
  }
  for (std::size_t j = i + 1; j < cases.size(); ++j) {
    const CaseResult& later = cases[j];
    bool follows = later.case_name == c.case_name;  // the same case on another input
    if (later.order > c.order) {
      follows =
          follows || (later.component == c.component && c.layer >= 0 && later.layer > c.layer);
      if (!named.empty()) {
        follows = follows || (later.layer == c.layer && std::find(named.begin(), named.end(),
                                                                  later.component) != named.end());
      } else {
        follows = follows || (innermost >= 0 && ContainmentDepth(later, c) == innermost);
      }
    }
    if (follows) followers.push_back(j);
  }
  return followers;
}

// What a root cause usually is in this kind of component: its table's text, or the general one.
std::string CauseText(std::string_view specific, std::string_view general) {
  return std::string(specific.empty() ? general : specific);
}

RootCause CauseOf(const CaseResult& c, Pattern pattern) {
  switch (c.outcome) {
    case Outcome::kNonFiniteTarget:
      return RootCause::kNonFiniteOutput;
    case Outcome::kShapeMismatch:
    case Outcome::kEmpty:
      return RootCause::kShapeMismatch;
    case Outcome::kNonFiniteReference:
    case Outcome::kSubnormalReference:
      return RootCause::kReferenceError;
    case Outcome::kDegenerateBaseline:
      if (!c.passed) return RootCause::kExactnessViolation;
      break;
    case Outcome::kRatio:
      break;
  }
  if (pattern == Pattern::kSpike) return RootCause::kAlignmentArtifact;
  if (!c.band) return RootCause::kWrongComputation;  // a failure nobody judged by R
  switch (*c.band) {
    case Band::kOverPrecision:
      return RootCause::kOverPrecision;
    case Band::kWithinTolerance:  // only a failure with an inconsistent record lands here
    case Band::kPossibleBug:
    case Band::kLikelyBug:
      return RootCause::kPrecisionOrderingOrMissingMultiplier;
    case Band::kMissingAlgorithm:
      return RootCause::kMissingAlgorithm;
    case Band::kWrongComputation:
      return RootCause::kWrongComputation;
  }
  return RootCause::kWrongComputation;
}

std::string Describe(RootCause cause, const std::string& component) {
  const ComponentKind* kind = FindComponentKindInAnyFamily(component);
  const RootCauseTexts texts = kind != nullptr ? kind->causes : RootCauseTexts{};
  switch (cause) {
    case RootCause::kOverPrecision:
      return "an extra float32 upcast: the block is computed in float32 and rounded once, so "
             "the port is more accurate than the bf16 reference";
    case RootCause::kPrecisionOrderingOrMissingMultiplier:
      return CauseText(texts.precision_ordering,
                       "precision ordering (a cast too early) or a missing multiplier");
    case RootCause::kMissingAlgorithm:
      return CauseText(texts.missing_algorithm, "a missing algorithm or a wrong formula");
    case RootCause::kWrongComputation:
      return CauseText(texts.wrong_computation,
                       "weights swapped or concatenated in the wrong order, interleaved rotary "
                       "pairs, a missing scale");
    case RootCause::kAlignmentArtifact:
      return "the anomaly does not persist into the components that follow or contain it: "
             "usually an alignment artifact (padding, positions, output layout) or a transient "
             "error";
    case RootCause::kNonFiniteOutput:
      return "NaN or Inf in the port's output where the reference is finite (bf16 overflow, a "
             "division by zero, an uninitialised buffer)";
    case RootCause::kShapeMismatch:
      return "the port's output shape differs from the reference (or is empty): nothing was "
             "compared";
    case RootCause::kReferenceError:
      return "NaN or Inf in a reference output: an error in the test, not in the port";
    case RootCause::kExactnessViolation:
      return "the bf16 baseline is exact here (a lookup, bf16-exact inputs), so the port must "
             "match ref_bf16 within the allowed ulps, and it does not";
  }
  return "?";
}

std::string FormatR(double r) {
  if (std::isnan(r)) return "R not judged";
  return "R = " + FormatShort(r);
}

std::string Joined(const std::vector<std::string>& paths) {
  if (paths.empty()) return "(none)";
  std::string text;
  for (const std::string& p : paths) text += (text.empty() ? "" : ", ") + p;
  return text;
}

// A passing run names no suspect: what ranks first there is an over-precision flag.
std::string SuspectLine(const Suspect& s) {
  return std::string(s.failed ? "primary suspect " : "first over-precision flag ") + s.name + " (" +
         s.component + ", " + FormatR(s.r_ratio) + ", " + std::string(PatternName(s.pattern)) +
         ", " + std::string(RootCauseName(s.cause)) + "): " + s.description + "; paths " +
         Joined(s.source_paths) + " -> " + Joined(s.target_paths);
}

json Number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

}  // namespace

Localization Localize(std::vector<CaseResult> cases) {
  std::stable_sort(cases.begin(), cases.end(), [](const CaseResult& a, const CaseResult& b) {
    return a.order != b.order ? a.order < b.order : a.name < b.name;
  });
  const bool any_failed =
      std::any_of(cases.begin(), cases.end(), [](const CaseResult& c) { return !c.passed; });
  // Flags matter only when nothing failed; then every follower either passes flagged or not.
  auto anomalous = [any_failed](const CaseResult& c) {
    return any_failed ? !c.passed : c.band == Band::kOverPrecision;
  };
  Localization loc;
  loc.clean = !any_failed;
  int64_t flagged = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const CaseResult& c = cases[i];
    if (c.passed && c.band == Band::kOverPrecision) ++flagged;
    if (!anomalous(c)) continue;
    const std::vector<std::size_t> followers = FollowersOf(cases, i);
    const bool persists = std::any_of(followers.begin(), followers.end(),
                                      [&](std::size_t j) { return anomalous(cases[j]); });
    Suspect s;
    s.name = c.name;
    s.component = c.component;
    s.layer = c.layer;
    s.r_ratio = c.r_ratio;
    s.band = c.band;
    s.failed = !c.passed;
    s.pattern = (followers.empty() || persists) ? Pattern::kStep : Pattern::kSpike;
    s.cause = CauseOf(c, s.pattern);
    s.description = Describe(s.cause, c.component);
    s.source_paths = c.source_paths;
    s.target_paths = c.target_paths;
    s.order = c.order;
    loc.suspects.push_back(std::move(s));
  }
  // Steps before spikes; the cases are already in (order, name) order.
  std::stable_sort(loc.suspects.begin(), loc.suspects.end(),
                   [](const Suspect& a, const Suspect& b) {
                     return a.pattern == Pattern::kStep && b.pattern == Pattern::kSpike;
                   });
  const std::string count = std::to_string(cases.size()) + " cases";
  if (loc.suspects.empty()) {
    loc.summary = "clean: " + count + " within tolerance";
    return loc;
  }
  loc.primary = loc.suspects.front();
  const bool only_spikes = loc.primary->pattern == Pattern::kSpike;
  std::string prefix;
  if (loc.clean) {
    prefix = "clean: " + count + " pass, " + std::to_string(flagged) + " flagged over_precision; ";
  }
  if (only_spikes) prefix += "only spikes, no anomaly persists; ";
  loc.summary = prefix + SuspectLine(*loc.primary);
  return loc;
}

std::string_view PatternName(Pattern pattern) {
  return pattern == Pattern::kStep ? "step" : "spike";
}

std::string_view RootCauseName(RootCause cause) {
  switch (cause) {
    case RootCause::kOverPrecision:
      return "over_precision";
    case RootCause::kPrecisionOrderingOrMissingMultiplier:
      return "precision_ordering_or_missing_multiplier";
    case RootCause::kMissingAlgorithm:
      return "missing_algorithm";
    case RootCause::kWrongComputation:
      return "wrong_computation";
    case RootCause::kAlignmentArtifact:
      return "alignment_artifact";
    case RootCause::kNonFiniteOutput:
      return "nonfinite_output";
    case RootCause::kShapeMismatch:
      return "shape_mismatch";
    case RootCause::kReferenceError:
      return "reference_error";
    case RootCause::kExactnessViolation:
      return "exactness_violation";
  }
  return "?";
}

void PrintTo(Pattern pattern, std::ostream* os) { *os << PatternName(pattern); }
void PrintTo(RootCause cause, std::ostream* os) { *os << RootCauseName(cause); }

json ToJson(const Suspect& s) {
  return {{"name", s.name},
          {"component", s.component},
          {"layer", s.layer},
          {"r_ratio", Number(s.r_ratio)},
          {"band", s.band ? json(std::string(BandName(*s.band))) : json(nullptr)},
          {"failed", s.failed},
          {"pattern", std::string(PatternName(s.pattern))},
          {"cause", std::string(RootCauseName(s.cause))},
          {"description", s.description},
          {"source_paths", s.source_paths},
          {"target_paths", s.target_paths},
          {"order", s.order}};
}

json ToJson(const Localization& loc) {
  json suspects = json::array();
  for (const Suspect& s : loc.suspects) suspects.push_back(ToJson(s));
  return {{"schema", "equiv.localization"},
          {"version", 1},
          {"clean", loc.clean},
          {"summary", loc.summary},
          {"primary", loc.primary ? ToJson(*loc.primary) : json(nullptr)},
          {"suspects", std::move(suspects)}};
}

}  // namespace equiv
