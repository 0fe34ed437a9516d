#include "libequiv/models/reference.h"

#include <utility>
#include <vector>

#include "libequiv/tensor/error.h"

namespace equiv {
namespace {

// No KV cache: every Append is a forward pass over the whole sequence so far.
class RecomputingDecoder : public ReferenceDecoder {
 public:
  explicit RecomputingDecoder(const Reference& model) : model_(&model) {}

  nn::Matrix Append(std::span<const int64_t> ids) override {
    if (ids.empty()) throw Error("ReferenceDecoder: Append with no ids");
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    const nn::Matrix logits = model_->Logits(ids_);
    forwards_ += static_cast<int64_t>(ids_.size());
    return logits.bottomRows(static_cast<Eigen::Index>(ids.size()));
  }
  int64_t length() const override { return static_cast<int64_t>(ids_.size()); }
  int64_t token_forwards() const override { return forwards_; }
  std::unique_ptr<ReferenceDecoder> Fork() const override {
    return std::make_unique<RecomputingDecoder>(*this);
  }
  std::vector<nn::Matrix> RouterLogits() const override { return model_->RouterLogits(ids_); }

 private:
  const Reference* model_;
  std::vector<int64_t> ids_;
  int64_t forwards_ = 0;
};

class KvCachedDecoder : public ReferenceDecoder {
 public:
  explicit KvCachedDecoder(CausalLmStepFn step) : step_(std::move(step)) {}

  nn::Matrix Append(std::span<const int64_t> ids) override {
    if (ids.empty()) throw Error("ReferenceDecoder: Append with no ids");
    nn::Matrix logits = step_(ids, cache_);
    forwards_ += static_cast<int64_t>(ids.size());
    return logits;
  }
  int64_t length() const override { return cache_.length(); }
  int64_t token_forwards() const override { return forwards_; }
  std::unique_ptr<ReferenceDecoder> Fork() const override {
    return std::make_unique<KvCachedDecoder>(*this);
  }
  std::vector<nn::Matrix> RouterLogits() const override { return cache_.router_logits; }

 private:
  CausalLmStepFn step_;
  nn::CausalLmCache cache_;
  int64_t forwards_ = 0;
};

}  // namespace

std::unique_ptr<ReferenceDecoder> MakeKvCachedDecoder(CausalLmStepFn step) {
  return std::make_unique<KvCachedDecoder>(std::move(step));
}

std::unique_ptr<ReferenceDecoder> Reference::StartDecoding() const {
  return std::make_unique<RecomputingDecoder>(*this);
}

}  // namespace equiv
