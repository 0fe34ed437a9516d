// Norms that neither overflow nor underflow, for the rare triples whose plain sums of
// squares do (float64 values beyond about 1e154 or below 1e-154). Internal to CompareTriple.
#ifndef EQUIV_LIBEQUIV_METRICS_INTERNAL_SCALED_NORM_H_
#define EQUIV_LIBEQUIV_METRICS_INTERNAL_SCALED_NORM_H_

namespace equiv::internal {

// A sum of squares in three ranges, each scaled by a power of two so that no square
// overflows or underflows: the accumulators of Blue's algorithm, as in LAPACK's dnrm2.
struct ScaledSumSquares {
  double big = 0, mid = 0, small = 0;
  void Add(double abs_value);
  // Adds (2 * abs_half)^2, for a difference that overflowed: abs_half = |a / 2 - b / 2|.
  void AddTwice(double abs_half);
  void Merge(const ScaledSumSquares& later);
};

// A norm as value * 2^exponent: the norm of n values near DBL_MAX exceeds the range of
// double, and its ratio to another such norm must still be right.
struct ScaledNorm {
  double value = 0;
  int exponent = 0;
  double Get() const;  // value * 2^exponent, inf beyond the range of double
};

// sqrt(sum) of plain or scaled sums of squares.
ScaledNorm NormOf(double sum_squares);
ScaledNorm NormOf(const ScaledSumSquares& sums);

// a / b, b > 0; exactly a.value / b.value when neither is scaled.
double Quotient(ScaledNorm a, ScaledNorm b);
// a + factor * b; exactly a.value + factor * b.value when neither is scaled.
ScaledNorm SumOf(ScaledNorm a, double factor, ScaledNorm b);
// a <= factor * b; exactly a.value <= factor * b.value when neither is scaled.
bool AtMost(ScaledNorm a, double factor, ScaledNorm b);

}  // namespace equiv::internal

#endif  // EQUIV_LIBEQUIV_METRICS_INTERNAL_SCALED_NORM_H_
