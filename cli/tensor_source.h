// Tensors named on the command line: `file.npy`, or `file.safetensors:tensor_name`. The
// loaded files stay open (memory-mapped) for as long as their views are used. A leading batch
// of 1 is squeezed ([1, n, f] is viewed as [n, f]: SqueezeBatch, as every command does).
#ifndef EQUIV_CLI_TENSOR_SOURCE_H_
#define EQUIV_CLI_TENSOR_SOURCE_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libequiv/io/npy.h"
#include "libequiv/io/safetensors.h"
#include "libequiv/tensor/tensor_view.h"

namespace equiv::cli {

// Opens each file once, however many tensors are taken from it.
class TensorSources {
 public:
  // A view of the tensor that `spec` names. Throws equiv::Error naming the spec, the file
  // and what is wrong (unreadable, malformed, no such tensor, not a floating dtype).
  TensorView Load(std::string_view spec);

  // The tensor `name` of an open safetensors file: a name inside a file is never a path.
  // Throws like Load for a missing tensor or a dtype compare does not read.
  static TensorView View(const SafetensorsFile& file, const std::string& name);

  // The file at `path`, opened once.
  const SafetensorsFile& Safetensors(const std::string& path);

 private:
  std::map<std::string, std::unique_ptr<SafetensorsFile>, std::less<>> safetensors_;
  std::vector<std::unique_ptr<NpyArray>> npy_;
};

// Splits `file.safetensors:name` into its path and tensor name; the name is empty when
// the spec names a whole file. A tensor name may hold ".safetensors:" too: the path is the
// first prefix ending in ".safetensors" that is an existing file (the first one if none is).
struct TensorSpec {
  std::string path;
  std::string tensor;
};
TensorSpec ParseTensorSpec(std::string_view spec);

bool IsSafetensorsPath(std::string_view path);

}  // namespace equiv::cli

#endif  // EQUIV_CLI_TENSOR_SOURCE_H_
