#include "libequiv/suite/dump_case_labels.h"

namespace equiv {

void ApplyDumpLabels(const DumpCase& dump_case, CaseResult& result) {
  result.name = dump_case.Name();
  result.case_name = dump_case.case_name;
  result.input = dump_case.input;
  result.component = dump_case.component;
  result.layer = dump_case.layer;
  result.source_paths = dump_case.source_paths;
  result.target_paths = dump_case.target_paths;
  result.order = dump_case.order;
}

}  // namespace equiv
