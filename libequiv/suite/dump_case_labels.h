// A dumped triple's labels (generators/dump_cases.h) on a case result, so that a dump suite and
// `equiv compare --results` record the same names, component, layer, paths and order.
#ifndef EQUIV_LIBEQUIV_SUITE_DUMP_CASE_LABELS_H_
#define EQUIV_LIBEQUIV_SUITE_DUMP_CASE_LABELS_H_

#include "generators/dump_cases.h"
#include "libequiv/results/case_result.h"

namespace equiv {

// Sets name, case_name, input, component, layer, source and target paths and order of `result`
// from `dump_case`; the verdict and statistics are left as they are.
void ApplyDumpLabels(const DumpCase& dump_case, CaseResult& result);

}  // namespace equiv

#endif  // EQUIV_LIBEQUIV_SUITE_DUMP_CASE_LABELS_H_
