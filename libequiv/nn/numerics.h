// The two numerics of a reference run (DESIGN.md, "Numerics of the three runs"), and the dense
// matrix every component computes on: rows are sequence positions, columns features.
//
//   Matrix y = Linear(x, w, nullptr, Precision::kBf16);  // f32 arithmetic, output rounded
#ifndef EQUIV_LIBEQUIV_NN_NUMERICS_H_
#define EQUIV_LIBEQUIV_NN_NUMERICS_H_

#include <Eigen/Core>
#include <cstdint>
#include <ostream>
#include <string_view>

#include "libequiv/tensor/tensor_view.h"

namespace equiv::nn {

// Row-major, so a row is one position's features and the memory layout matches PyTorch's.
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXf;

// kFp32: everything float32. kBf16: weights and inputs hold bf16 values; every op computes in
// float32 and rounds its output to bf16, as PyTorch eager on CPU does. kFp16: the same with
// IEEE half (the fp16 regime, models/regime.h).
enum class Precision { kFp32, kBf16, kFp16 };

std::string_view PrecisionName(Precision precision);  // "fp32", "bf16", "fp16"
void PrintTo(Precision precision, std::ostream* os);

// One value stored in the precision's format (round to nearest even for bf16 and fp16).
float Round(Precision precision, float value);
// Every element rounded in place; a no-op for kFp32.
void RoundInPlace(Precision precision, Matrix& m);
void RoundInPlace(Precision precision, Vector& v);
Matrix Rounded(Precision precision, Matrix m);
Vector Rounded(Precision precision, Vector v);

// A [rows, cols] f32 view of the matrix, for CompareTriple and the matchers. `m` must outlive it.
TensorView View(const Matrix& m);

}  // namespace equiv::nn

#endif  // EQUIV_LIBEQUIV_NN_NUMERICS_H_
